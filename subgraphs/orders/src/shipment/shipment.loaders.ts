import DataLoader from "dataloader";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import {
  type ShipmentLineModel,
  type ShipmentModel,
  toShipmentLineModel,
  toShipmentModel,
} from "./shipment.model.ts";
import { findShipmentLinesByShipmentIds, findShipmentsByOrderIds } from "./shipment.repository.ts";

export function createShipmentLoaders(db: Kysely<Database>) {
  return {
    shipmentsByOrderId: new DataLoader<string, ShipmentModel[]>(async (orderIds) => {
      const byOrder = new Map<string, ShipmentModel[]>(orderIds.map((id) => [id, []]));
      for (const row of await findShipmentsByOrderIds(db, orderIds)) {
        byOrder.get(row.order_id)?.push(toShipmentModel(row));
      }
      return orderIds.map((id) => byOrder.get(id) ?? []);
    }),

    shipmentLinesByShipmentId: new DataLoader<string, ShipmentLineModel[]>(async (shipmentIds) => {
      const byShipment = new Map<string, ShipmentLineModel[]>(shipmentIds.map((id) => [id, []]));
      for (const row of await findShipmentLinesByShipmentIds(db, shipmentIds)) {
        byShipment.get(row.shipment_id)?.push(toShipmentLineModel(row));
      }
      return shipmentIds.map((id) => byShipment.get(id) ?? []);
    }),
  };
}

export type ShipmentLoaders = ReturnType<typeof createShipmentLoaders>;
