import { isUuid } from "@nexus/core";
import DataLoader from "dataloader";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { type CustomerInsightsModel, toCustomerInsights } from "./customers.model.ts";
import { findCustomerScores } from "./customers.repository.ts";

/** Per request: every `User.insights` of one plan step in one query. */
export function createCustomerLoaders(db: Kysely<Database>) {
  return {
    insightsByCustomerId: new DataLoader<string, CustomerInsightsModel | null>(async (ids) => {
      // Customer ids are UUIDs; anything else has no scores and must not reach the uuid column.
      const rows = await findCustomerScores(db, ids.filter(isUuid));
      const byId = new Map(rows.map((row) => [row.customer_id, toCustomerInsights(row)]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  };
}

export type CustomerLoaders = ReturnType<typeof createCustomerLoaders>;
