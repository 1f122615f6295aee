import type { PartnerClientRow } from "./partner.repository.ts";

/** What PartnerClient resolvers receive: never the key hash. */
export interface PartnerClientModel {
  id: string;
  name: string;
  keyPrefix: string;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export const toPartnerClientModel = (row: PartnerClientRow): PartnerClientModel => ({
  id: row.id,
  name: row.name,
  keyPrefix: row.key_prefix,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
  lastUsedAt: row.last_used_at,
});
