import type { Role } from "@nexus/core";
import type { UserRow } from "./user.repository.ts";

/** What User resolvers receive: the row without its password hash. */
export interface UserModel {
  id: string;
  /** Null for an imported customer until an email is set. */
  email: string | null;
  name: string;
  role: Role;
  /** Set only on imported customers. */
  externalId: string | null;
  countryCode: string | null;
  emailVerified: boolean;
  /** When the owner deleted the account; its personal data is gone. */
  deletedAt: Date | null;
  createdAt: Date;
}

export const toUserModel = (row: UserRow): UserModel => ({
  id: row.id,
  email: row.email,
  name: row.name,
  role: row.role,
  externalId: row.external_id,
  countryCode: row.country_code,
  emailVerified: row.email_verified,
  deletedAt: row.deleted_at,
  createdAt: row.created_at,
});
