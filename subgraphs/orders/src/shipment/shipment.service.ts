import { randomUUID } from "node:crypto";
import { forbidden, inputField, isUuid, notFound, userError, type Viewer } from "@nexus/core";
import { appendToOutbox, type ShipmentSnapshot } from "@nexus/events";
import { type OrderModel, toOrderModel } from "../order/order.model.ts";
import { findLinesByOrderIds, findOrderForUpdate } from "../order/order.repository.ts";
import { illegal, isOrderStaff, type OrderServiceDeps } from "../order/order.service.ts";
import { canTransition } from "../order/order.status.ts";
import { changeOrderStatus } from "../order/status-change.service.ts";
import type { UserError } from "../user-error.ts";
import { type ShipmentModel, toShipmentModel } from "./shipment.model.ts";
import { insertShipment, sumShipped } from "./shipment.repository.ts";

export interface CreateShipmentInput {
  orderId: string;
  /** Null or absent: every unit not shipped yet. */
  lines?: readonly { productId: string; quantity: number }[] | null | undefined;
  carrier?: string | null | undefined;
  trackingNumber?: string | null | undefined;
}

export type ShipmentResult = { shipment: ShipmentModel | null; order: OrderModel; userErrors: UserError[] };

const PRINTABLE = /^[\x21-\x7e]([\x20-\x7e]{0,98}[\x21-\x7e])?$/;
const MAX_LINES = 100;

function validateShape(input: CreateShipmentInput, carrier: string | null, trackingNumber: string | null) {
  const errors: UserError[] = [];
  if (trackingNumber !== null && !PRINTABLE.test(trackingNumber)) {
    errors.push(
      userError(
        "INVALID_TRACKING_NUMBER",
        "trackingNumber must be 1 to 100 printable ASCII characters.",
        inputField("trackingNumber"),
      ),
    );
  }
  if (carrier !== null && !PRINTABLE.test(carrier)) {
    errors.push(
      userError(
        "INVALID_CARRIER",
        "carrier must be 1 to 100 printable ASCII characters.",
        inputField("carrier"),
      ),
    );
  }
  const lines = input.lines ?? null;
  if (lines !== null) {
    if (lines.length === 0 || lines.length > MAX_LINES) {
      errors.push(
        userError("INVALID_SHIPMENT", `lines must hold 1 to ${MAX_LINES} products.`, inputField("lines")),
      );
    }
    const seen = new Set<string>();
    lines.forEach((line, i) => {
      if (!Number.isSafeInteger(line.quantity) || line.quantity <= 0) {
        errors.push(
          userError("INVALID_SHIPMENT", "quantity must be at least 1.", inputField("lines", i, "quantity")),
        );
      }
      if (seen.has(line.productId)) {
        errors.push(
          userError("INVALID_SHIPMENT", "Each product may appear once.", inputField("lines", i, "productId")),
        );
      }
      seen.add(line.productId);
    });
  }
  return errors;
}

/**
 * Ships units of a CONFIRMED or PARTIALLY_SHIPPED order: the given lines, or every unit not
 * shipped yet. The order becomes SHIPPED once every unit has shipped, PARTIALLY_SHIPPED until
 * then, and each shipment is a step of its history announced by OrderStatusChanged with its
 * tracking number. OrderShipped tells inventory which units to commit: without lines when the
 * order ships whole at once (as before shipments could be split), with them otherwise. The
 * order's row is locked, so concurrent shipments of one order never ship a unit twice.
 */
export async function createShipment(
  deps: OrderServiceDeps,
  viewer: Viewer,
  input: CreateShipmentInput,
): Promise<ShipmentResult> {
  if (!isOrderStaff(viewer)) throw forbidden("Only staff with orders:write:any may ship orders.");
  if (!isUuid(input.orderId)) throw notFound("Order");
  const orderId = input.orderId.toLowerCase();
  const carrier = input.carrier?.trim() || null;
  const trackingNumber = input.trackingNumber?.trim() || null;
  return deps.db.transaction().execute(async (trx) => {
    const order = await findOrderForUpdate(trx, orderId);
    if (!order) throw notFound("Order");
    const fail = (...userErrors: UserError[]): ShipmentResult => ({
      shipment: null,
      order: toOrderModel(order),
      userErrors,
    });
    const shapeErrors = validateShape(input, carrier, trackingNumber);
    if (shapeErrors.length > 0) return fail(...shapeErrors);
    if (!canTransition(order.status, "SHIPPED")) return fail(illegal(order, "SHIPPED"));

    const orderLines = [...(await findLinesByOrderIds(trx, [orderId]))].sort(
      (a, b) => a.position - b.position,
    );
    const ordered = new Map<string, { quantity: number; name: string }>();
    for (const line of orderLines) {
      const known = ordered.get(line.product_id);
      ordered.set(line.product_id, {
        quantity: (known?.quantity ?? 0) + line.quantity,
        name: known?.name ?? line.product_name,
      });
    }
    const shipped = await sumShipped(trx, orderId);
    const unshipped = (productId: string) =>
      (ordered.get(productId)?.quantity ?? 0) - (shipped.units.get(productId) ?? 0);

    const requested =
      input.lines ??
      [...ordered.keys()]
        .map((productId) => ({ productId, quantity: unshipped(productId) }))
        .filter((line) => line.quantity > 0);
    const lineErrors = requested.flatMap((line, i): UserError[] => {
      if (!ordered.has(line.productId)) {
        return [
          userError(
            "UNKNOWN_PRODUCT",
            "The order has no line for this product.",
            inputField("lines", i, "productId"),
          ),
        ];
      }
      const left = unshipped(line.productId);
      return line.quantity > left
        ? [
            userError(
              "QUANTITY_EXCEEDS_UNSHIPPED",
              `Only ${left} unit(s) of this product are left to ship.`,
              inputField("lines", i, "quantity"),
            ),
          ]
        : [];
    });
    if (lineErrors.length > 0) return fail(...lineErrors);

    const unitsLeft = [...ordered.keys()].reduce((sum, productId) => sum + unshipped(productId), 0);
    const unitsNow = requested.reduce((sum, line) => sum + line.quantity, 0);
    const complete = unitsNow === unitsLeft;
    const whole = complete && shipped.shipments === 0;

    const shipment = await insertShipment(
      trx,
      { id: randomUUID(), order_id: orderId, carrier, tracking_number: trackingNumber },
      requested.map((line, position) => ({ position, product_id: line.productId, quantity: line.quantity })),
    );
    const snapshot: ShipmentSnapshot | undefined = whole
      ? undefined
      : {
          carrier,
          trackingNumber,
          lines: requested.map((line) => ({
            productId: line.productId,
            productName: ordered.get(line.productId)?.name ?? "",
            quantity: line.quantity,
          })),
          complete,
        };
    const updated = await changeOrderStatus(
      deps,
      trx,
      order,
      complete ? "SHIPPED" : "PARTIALLY_SHIPPED",
      null,
      {
        trackingNumber,
        ...(snapshot ? { shipment: snapshot } : {}),
      },
    );
    await appendToOutbox(
      trx,
      "OrderShipped",
      orderId,
      whole
        ? { orderId }
        : {
            orderId,
            lines: requested.map((line) => ({ productId: line.productId, quantity: line.quantity })),
          },
    );
    return { shipment: toShipmentModel(shipment), order: toOrderModel(updated), userErrors: [] };
  });
}
