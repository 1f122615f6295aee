import { isUuid } from "@nexus/core";
import DataLoader from "dataloader";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { type TaxRateModel, toTaxRateModel } from "./tax.model.ts";
import { findTaxRatesByIds } from "./tax.repository.ts";

export function createTaxLoaders(db: Kysely<Database>) {
  return {
    /** Rates by id, for `_entities` (`node`): one query for all of a request's references. */
    taxRateById: new DataLoader<string, TaxRateModel | null>(async (ids) => {
      const rows = await findTaxRatesByIds(
        db,
        ids.filter(isUuid).map((id) => id.toLowerCase()),
      );
      const byId = new Map(rows.map((row) => [row.id, toTaxRateModel(row)]));
      return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
    }),
  };
}

export type TaxLoaders = ReturnType<typeof createTaxLoaders>;
