import type { OutboxDatabase } from "@nexus/events";
import type { ColumnType, Generated } from "kysely";

type CreatedAt = ColumnType<Date, never, never>;
type UpdatedAt = ColumnType<Date, never, Date>;

export interface UsersTable {
  id: Generated<string>;
  /** Null for an imported customer until an email is set. */
  email: string | null;
  /** Null for an account that has never had a password (imported customers): it cannot sign in. */
  password_hash: string | null;
  name: string;
  role: "CUSTOMER" | "ADMIN" | "PARTNER";
  /** The store's previous system's customer id, for accounts made by `importCustomers`; unique. */
  external_id: string | null;
  /** ISO 3166-1 alpha-2, as the previous system recorded it for an imported customer. */
  country_code: string | null;
  /** Set by verifying the email, or by a password reset (the reset link proved ownership). */
  email_verified: Generated<boolean>;
  /** Set when the owner deleted the account: its personal data is gone, the row stays for orders. */
  deleted_at: Date | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export type AccountTokenPurpose = "reset" | "invite" | "verify";

export interface AccountTokensTable {
  id: Generated<string>;
  user_id: string;
  purpose: AccountTokenPurpose;
  /** SHA-256 of the token: the token itself travels only sealed, in the event that mails it. */
  token_hash: Buffer;
  /** The account's email when the token was made; a verification token verifies only this one. */
  email: string;
  created_at: CreatedAt;
  expires_at: Date;
  used_at: Date | null;
  /** Set when a newer token of the same kind replaced this one before it was used. */
  superseded_at: Date | null;
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
  created_by: string | null;
  created_at: CreatedAt;
  /** The client revoked for good: none of its keys works. */
  revoked_at: Date | null;
}

export interface PartnerApiKeysTable {
  id: Generated<string>;
  client_id: string;
  key_prefix: string;
  /** SHA-256 of the API key: the key itself is shown once and never stored. */
  key_hash: Buffer;
  created_by: string | null;
  created_at: CreatedAt;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

export interface PartnerOperationUsageTable {
  client_id: string;
  /** The persisted operation's id (sha256 of its body). */
  operation_id: string;
  /** The UTC day, as PostgreSQL returns a `date`. */
  day: ColumnType<Date, string, string>;
  requests: ColumnType<string, number, number>;
  errors: ColumnType<string, number, number>;
  last_used_at: Date;
}

export interface Database extends OutboxDatabase {
  users: UsersTable;
  refresh_token_families: RefreshTokenFamiliesTable;
  refresh_tokens: RefreshTokensTable;
  addresses: AddressesTable;
  partner_clients: PartnerClientsTable;
  partner_api_keys: PartnerApiKeysTable;
  partner_operation_usage: PartnerOperationUsageTable;
  account_tokens: AccountTokensTable;
}
