import type { Kysely, Selectable, Transaction } from "kysely";
import type { Database, ShipmentLinesTable, ShipmentsTable } from "../db/database.ts";

export type ShipmentRow = Selectable<ShipmentsTable>;
export type ShipmentLineRow = Selectable<ShipmentLinesTable>;

export async function findShipmentsByOrderIds(
  db: Kysely<Database>,
  orderIds: readonly string[],
): Promise<ShipmentRow[]> {
  if (orderIds.length === 0) return [];
  return db
    .selectFrom("shipments")
    .selectAll()
    .where("order_id", "in", orderIds)
    .orderBy("shipped_at")
    .orderBy("id")
    .execute();
}

export async function findShipmentLinesByShipmentIds(
  db: Kysely<Database>,
  shipmentIds: readonly string[],
): Promise<ShipmentLineRow[]> {
  if (shipmentIds.length === 0) return [];
  return db
    .selectFrom("shipment_lines")
    .selectAll()
    .where("shipment_id", "in", shipmentIds)
    .orderBy("shipment_id")
    .orderBy("position")
    .execute();
}

/** Units of each product of the order that have shipped so far, and in how many shipments. */
export async function sumShipped(
  trx: Transaction<Database>,
  orderId: string,
): Promise<{ shipments: number; units: Map<string, number> }> {
  const rows = await trx
    .selectFrom("shipment_lines")
    .innerJoin("shipments", "shipments.id", "shipment_lines.shipment_id")
    .select([
      "shipment_lines.product_id",
      (eb) => eb.fn.sum<string>("shipment_lines.quantity").as("quantity"),
    ])
    .where("shipments.order_id", "=", orderId)
    .groupBy("shipment_lines.product_id")
    .execute();
  const count = await trx
    .selectFrom("shipments")
    .select((eb) => eb.fn.countAll<string>().as("count"))
    .where("order_id", "=", orderId)
    .executeTakeFirstOrThrow();
  return {
    shipments: Number(count.count),
    units: new Map(rows.map((row) => [row.product_id, Number(row.quantity)])),
  };
}

export async function insertShipment(
  trx: Transaction<Database>,
  shipment: Omit<ShipmentRow, "shipped_at">,
  lines: readonly Omit<ShipmentLineRow, "shipment_id">[],
): Promise<ShipmentRow> {
  const row = await trx.insertInto("shipments").values(shipment).returningAll().executeTakeFirstOrThrow();
  await trx
    .insertInto("shipment_lines")
    .values(lines.map((line) => ({ ...line, shipment_id: shipment.id })))
    .execute();
  return row;
}
