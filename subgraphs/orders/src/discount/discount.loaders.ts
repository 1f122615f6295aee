import { isUuid } from "@nexus/core";
import DataLoader from "dataloader";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import type { DiscountModel } from "./discount.model.ts";
import { findDiscountsByIds, toDiscountModel } from "./discount.repository.ts";

export function createDiscountLoaders(db: Kysely<Database>) {
  return {
    /** Discounts by id, for `_entities` (`node`): one query for all of a request's references. */
    discountById: new DataLoader<string, DiscountModel | null>(async (ids) => {
      const rows = await findDiscountsByIds(
        db,
        ids.filter(isUuid).map((id) => id.toLowerCase()),
      );
      const byId = new Map(rows.map((row) => [row.id, toDiscountModel(row)]));
      return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
    }),
  };
}

export type DiscountLoaders = ReturnType<typeof createDiscountLoaders>;
