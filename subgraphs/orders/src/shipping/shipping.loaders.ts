import DataLoader from "dataloader";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { type ShippingMethodModel, toShippingMethodModel } from "./shipping.model.ts";
import { findShippingMethodsByZoneIds } from "./shipping.repository.ts";

export function createShippingLoaders(db: Kysely<Database>) {
  return {
    /** A zone's methods, switched-off ones included, oldest first: one query for every zone asked. */
    shippingMethodsByZoneId: new DataLoader<string, ShippingMethodModel[]>(async (zoneIds) => {
      const byZone = new Map<string, ShippingMethodModel[]>(zoneIds.map((id) => [id, []]));
      for (const row of await findShippingMethodsByZoneIds(db, zoneIds)) {
        byZone.get(row.zone_id)?.push(toShippingMethodModel(row));
      }
      return zoneIds.map((id) => byZone.get(id) ?? []);
    }),
  };
}

export type ShippingLoaders = ReturnType<typeof createShippingLoaders>;
