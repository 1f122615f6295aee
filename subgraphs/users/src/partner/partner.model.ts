import type { PersistedOperation } from "@nexus/core";
import type { PartnerApiKeyRow, PartnerClientRow } from "./partner.repository.ts";

/** What PartnerClient resolvers receive; its keys come from the `apiKeysByClientId` loader. */
export interface PartnerClientModel {
  id: string;
  name: string;
  createdAt: Date;
  revokedAt: Date | null;
}

/** One key of a client: never its hash. */
export interface PartnerApiKeyModel {
  id: string;
  clientId: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface PartnerOperationModel {
  id: string;
  name: string;
  type: PersistedOperation["type"];
  body: string;
  requests: number;
  errors: number;
  lastUsedAt: Date | null;
}

export interface PartnerManifestModel {
  client: PartnerClientModel;
  usageSince: Date;
  operations: PartnerOperationModel[];
}

export const toPartnerClientModel = (row: PartnerClientRow): PartnerClientModel => ({
  id: row.id,
  name: row.name,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

export const toPartnerApiKeyModel = (row: PartnerApiKeyRow): PartnerApiKeyModel => ({
  id: row.id,
  clientId: row.client_id,
  prefix: row.key_prefix,
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
  revokedAt: row.revoked_at,
});

/** Most keys a client may hold working at once: the one in use and its successor. */
export const MAX_ACTIVE_KEYS = 2;

/** The prefix the deprecated `PartnerClient.keyPrefix` shows: the newest working key's, else the newest. */
export function currentKey(keys: readonly PartnerApiKeyModel[]): PartnerApiKeyModel | undefined {
  const newestFirst = [...keys].reverse();
  return newestFirst.find((key) => key.revokedAt === null) ?? newestFirst[0];
}
