import type { ColumnType, Generated } from "kysely";

type CreatedAt = ColumnType<Date, never, never>;
type UpdatedAt = ColumnType<Date, never, Date>;

export interface UsersTable {
  id: Generated<string>;
  email: string;
  password_hash: string;
  name: string;
  role: "CUSTOMER" | "ADMIN" | "PARTNER";
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface RefreshTokenFamiliesTable {
  id: Generated<string>;
  user_id: string;
  created_at: CreatedAt;
  expires_at: Date;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

export interface RefreshTokensTable {
  id: Generated<string>;
  family_id: string;
  /** SHA-256 of the token: the token itself is never stored. */
  token_hash: Buffer;
  created_at: CreatedAt;
  used_at: Date | null;
}

export interface AddressesTable {
  id: Generated<string>;
  user_id: string;
  name: string;
  line1: string;
  line2: string | null;
  city: string;
  region: string | null;
  postal_code: string;
  country_code: string;
  is_default: boolean;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface PartnerClientsTable {
  id: Generated<string>;
  name: string;
  key_prefix: string;
  /** SHA-256 of the API key: the key itself is shown once and never stored. */
  key_hash: Buffer;
  created_by: string | null;
  created_at: CreatedAt;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

export interface Database {
  users: UsersTable;
  refresh_token_families: RefreshTokenFamiliesTable;
  refresh_tokens: RefreshTokensTable;
  addresses: AddressesTable;
  partner_clients: PartnerClientsTable;
}
