import DataLoader from "dataloader";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { type PartnerApiKeyModel, toPartnerApiKeyModel } from "./partner.model.ts";
import { findApiKeysByClientIds } from "./partner.repository.ts";

export function createPartnerLoaders(db: Kysely<Database>) {
  return {
    /** Every key of each client, oldest first, revoked ones included: one query per page of clients. */
    apiKeysByClientId: new DataLoader<string, PartnerApiKeyModel[]>(async (clientIds) => {
      const rows = await findApiKeysByClientIds(db, clientIds);
      const byClient = new Map<string, PartnerApiKeyModel[]>();
      for (const row of rows) {
        const keys = byClient.get(row.client_id) ?? [];
        keys.push(toPartnerApiKeyModel(row));
        byClient.set(row.client_id, keys);
      }
      return clientIds.map((id) => byClient.get(id) ?? []);
    }),
  };
}

export type PartnerLoaders = ReturnType<typeof createPartnerLoaders>;
