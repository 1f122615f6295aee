import { isUuid } from "@nexus/core";
import DataLoader from "dataloader";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import {
  type ShippingMethodModel,
  type ShippingZoneModel,
  toShippingMethodModel,
  toShippingZoneModel,
} from "./shipping.model.ts";
import {
  findShippingMethodsByIds,
  findShippingMethodsByZoneIds,
  findShippingZonesByIds,
} from "./shipping.repository.ts";

export function createShippingLoaders(db: Kysely<Database>) {
  const uuids = (ids: readonly string[]) => ids.filter(isUuid).map((id) => id.toLowerCase());
  return {
    /** Zones by id, for `_entities` (`node`): one query for all of a request's references. */
    shippingZoneById: new DataLoader<string, ShippingZoneModel | null>(async (ids) => {
      const byId = new Map((await findShippingZonesByIds(db, uuids(ids))).map((row) => [row.id, row]));
      return ids.map((id) => {
        const row = byId.get(id.toLowerCase());
        return row ? toShippingZoneModel(row) : null;
      });
    }),
    /** Methods by id, for `_entities` (`node`): one query for all of a request's references. */
    shippingMethodById: new DataLoader<string, ShippingMethodModel | null>(async (ids) => {
      const byId = new Map((await findShippingMethodsByIds(db, uuids(ids))).map((row) => [row.id, row]));
      return ids.map((id) => {
        const row = byId.get(id.toLowerCase());
        return row ? toShippingMethodModel(row) : null;
      });
    }),
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
