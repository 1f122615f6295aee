import { randomUUID } from "node:crypto";
import { forbidden, inputField, isUuid, notFound, userError, type Viewer } from "@nexus/core";
import { appendToOutbox } from "@nexus/events";
import type { Kysely } from "kysely";
import type { Database, OrderStatus } from "../db/database.ts";
import { type OrderModel, toOrderModel } from "../order/order.model.ts";
import { findLinesByOrderIds, findOrderForUpdate } from "../order/order.repository.ts";
import { isOrderStaff } from "../order/order.service.ts";
import type { PaymentProvider } from "../payment/payment.provider.ts";
import { findPaymentForUpdate, markPaymentRefunded } from "../payment/payment.repository.ts";
import { sumShipped } from "../shipment/shipment.repository.ts";
import type { UserError } from "../user-error.ts";
import { type RefundModel, toRefundModel } from "./refund.model.ts";
import {
  findRefundByKey,
  findRefundLinesByRefundIds,
  insertRefund,
  type RefundLineRow,
  type RefundRow,
  sumRefunded,
} from "./refund.repository.ts";

export interface RefundServiceDeps {
  db: Kysely<Database>;
  payments: PaymentProvider;
}

export interface RefundOrderInput {
  orderId: string;
  lines?: readonly { productId: string; quantity: number }[] | null | undefined;
  amount?: number | null | undefined;
  reason: string;
  restock?: boolean | null | undefined;
  idempotencyKey: string;
}

export type RefundOrderResult = { refund: RefundModel | null; order: OrderModel; userErrors: UserError[] };

/**
 * Goods are returned once they have left: before that, cancelling the order is the refund. A
 * partly shipped order's units are refunded once they have shipped.
 */
export const REFUNDABLE: readonly OrderStatus[] = ["PARTIALLY_SHIPPED", "SHIPPED", "DELIVERED"];

const MAX_REASON = 500;
const MAX_LINES = 100;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]([\x20-\x7e]{0,98}[\x21-\x7e])?$/;

/** The provider's key for one refund: scoped to the order, apart from a cancellation's `refund:<order>`. */
export const providerRefundKey = (orderId: string, idempotencyKey: string): string =>
  `refund:${orderId}:${idempotencyKey}`;

function validateShape(input: RefundOrderInput): UserError[] {
  const errors: UserError[] = [];
  const reason = input.reason.trim();
  if (reason.length === 0 || reason.length > MAX_REASON) {
    errors.push(
      userError("INVALID_REASON", `reason must be 1 to ${MAX_REASON} characters.`, inputField("reason")),
    );
  }
  if (!IDEMPOTENCY_KEY.test(input.idempotencyKey)) {
    errors.push(
      userError(
        "INVALID_IDEMPOTENCY_KEY",
        "idempotencyKey must be 1 to 100 printable ASCII characters.",
        inputField("idempotencyKey"),
      ),
    );
  }
  const lines = input.lines ?? null;
  const amount = input.amount ?? null;
  if ((lines === null) === (amount === null)) {
    errors.push(
      userError("INVALID_REFUND", "Give either lines or an amount to refund.", inputField("lines")),
    );
  }
  if (amount !== null && (!Number.isSafeInteger(amount) || amount <= 0)) {
    errors.push(
      userError("INVALID_REFUND", "amount must be a positive number of minor units.", inputField("amount")),
    );
  }
  if (amount !== null && input.restock === true) {
    errors.push(userError("INVALID_REFUND", "Only returned lines can be restocked.", inputField("restock")));
  }
  if (lines !== null) {
    if (lines.length === 0 || lines.length > MAX_LINES) {
      errors.push(
        userError("INVALID_REFUND", `lines must hold 1 to ${MAX_LINES} products.`, inputField("lines")),
      );
    }
    const seen = new Set<string>();
    lines.forEach((line, i) => {
      if (!Number.isSafeInteger(line.quantity) || line.quantity <= 0) {
        errors.push(
          userError("INVALID_REFUND", "quantity must be at least 1.", inputField("lines", i, "quantity")),
        );
      }
      if (seen.has(line.productId)) {
        errors.push(
          userError("INVALID_REFUND", "Each product may appear once.", inputField("lines", i, "productId")),
        );
      }
      seen.add(line.productId);
    });
  }
  return errors;
}

/** Whether a refund made with a key is what this request asks for: the same units, or the same amount. */
function sameRequest(
  refund: RefundRow,
  refundLines: readonly RefundLineRow[],
  input: RefundOrderInput,
  restock: boolean,
): boolean {
  if (refund.restock !== restock) return false;
  if (input.amount !== null && input.amount !== undefined) {
    return refundLines.length === 0 && refund.amount === input.amount;
  }
  const asked = input.lines ?? [];
  return (
    refundLines.length === asked.length &&
    asked.every((line) =>
      refundLines.some((made) => made.product_id === line.productId && made.quantity === line.quantity),
    )
  );
}

/**
 * What `units` more units of a line cost the customer, when `before` of its `ordered` units
 * were refunded already: the line's `paid` amount (after discounts, with tax when prices
 * excluded it) shared out unit by unit, so the line's refunds add up to exactly `paid` once
 * every unit is back, whatever the steps.
 */
export const unitsPaid = (paid: number, ordered: number, before: number, units: number): number =>
  Math.floor((paid * (before + units)) / ordered) - Math.floor((paid * before) / ordered);

/**
 * Refunds units of a shipped order's lines, or an amount, inside one transaction holding the
 * order's row: two refunds of one order queue behind each other, so the second sees what the
 * first refunded and together they can never exceed what was paid. The provider is called with
 * the refund's own key before the rows commit; should the commit fail, the retried request
 * calls it again with the same key and the provider answers as the first time, refunding once.
 * OrderRefunded (lines, `restock`) lets insights take the money off revenue, inventory put
 * restocked units back on hand and notifications tell the customer.
 */
export async function refundOrder(
  deps: RefundServiceDeps,
  viewer: Viewer,
  input: RefundOrderInput,
): Promise<RefundOrderResult> {
  if (!isOrderStaff(viewer)) throw forbidden("Only staff with orders:write:any may refund orders.");
  if (!isUuid(input.orderId)) throw notFound("Order");
  const orderId = input.orderId.toLowerCase();
  const restock = input.restock === true;
  return deps.db.transaction().execute(async (trx) => {
    const order = await findOrderForUpdate(trx, orderId);
    if (!order) throw notFound("Order");
    const fail = (...userErrors: UserError[]): RefundOrderResult => ({
      refund: null,
      order: toOrderModel(order),
      userErrors,
    });
    const shapeErrors = validateShape(input);
    if (shapeErrors.length > 0) return fail(...shapeErrors);

    const orderLines = await findLinesByOrderIds(trx, [orderId]);
    const ordered = new Map<string, { quantity: number; unitPrice: number; paid: number }>();
    for (const line of orderLines) {
      const known = ordered.get(line.product_id);
      const paid =
        line.unit_price * line.quantity -
        line.discount_amount +
        (order.prices_include_tax ? 0 : line.tax_amount);
      ordered.set(line.product_id, {
        quantity: (known?.quantity ?? 0) + line.quantity,
        unitPrice: known?.unitPrice ?? line.unit_price,
        paid: (known?.paid ?? 0) + paid,
      });
    }
    const lineErrors: UserError[] = [];
    const lines = (input.lines ?? []).map((line, position) => {
      const product = ordered.get(line.productId);
      if (!product) {
        lineErrors.push(
          userError(
            "UNKNOWN_PRODUCT",
            "The order has no line for this product.",
            inputField("lines", position, "productId"),
          ),
        );
      }
      return {
        position,
        product_id: line.productId,
        quantity: line.quantity,
        unit_price: product?.unitPrice ?? 0,
      };
    });
    if (lineErrors.length > 0) return fail(...lineErrors);

    const existing = await findRefundByKey(trx, orderId, input.idempotencyKey);
    if (existing) {
      const existingLines = await findRefundLinesByRefundIds(trx, [existing.id]);
      if (!sameRequest(existing, existingLines, input, restock)) {
        return fail(
          userError(
            "IDEMPOTENCY_KEY_REUSED",
            "This idempotency key was used for a different refund of the order.",
            inputField("idempotencyKey"),
          ),
        );
      }
      return { refund: toRefundModel(existing), order: toOrderModel(order), userErrors: [] };
    }

    const payment = await findPaymentForUpdate(trx, orderId);
    if (!REFUNDABLE.includes(order.status) || payment?.status !== "CAPTURED" || payment.reference === null) {
      const why =
        payment?.status === "REFUNDED"
          ? "its payment has been refunded in full"
          : `a ${order.status} order without a captured payment, or before it ships, cannot be refunded`;
      return fail(
        userError("NOT_REFUNDABLE", `This order cannot be refunded: ${why}.`, inputField("orderId")),
      );
    }
    const refunded = await sumRefunded(trx, orderId);
    const overOrdered = lines.flatMap((line) => {
      const left = (ordered.get(line.product_id)?.quantity ?? 0) - (refunded.units.get(line.product_id) ?? 0);
      return line.quantity > left
        ? [
            userError(
              "QUANTITY_EXCEEDS_ORDERED",
              `Only ${left} unit(s) of this product are left to refund.`,
              inputField("lines", line.position, "quantity"),
            ),
          ]
        : [];
    });
    if (overOrdered.length > 0) return fail(...overOrdered);
    if (order.status === "PARTIALLY_SHIPPED" && lines.length > 0) {
      const shipped = (await sumShipped(trx, orderId)).units;
      const unshipped = lines.flatMap((line) => {
        const left = (shipped.get(line.product_id) ?? 0) - (refunded.units.get(line.product_id) ?? 0);
        return line.quantity > left
          ? [
              userError(
                "QUANTITY_EXCEEDS_SHIPPED",
                `Only ${Math.max(left, 0)} shipped unit(s) of this product are left to refund; the rest has not shipped yet.`,
                inputField("lines", line.position, "quantity"),
              ),
            ]
          : [];
      });
      if (unshipped.length > 0) return fail(...unshipped);
    }
    const amount =
      input.amount ??
      lines.reduce((sum, line) => {
        const product = ordered.get(line.product_id);
        if (!product) return sum;
        return (
          sum +
          unitsPaid(product.paid, product.quantity, refunded.units.get(line.product_id) ?? 0, line.quantity)
        );
      }, 0);
    const left = payment.amount - refunded.amount;
    if (amount > left) {
      return fail(
        userError(
          "AMOUNT_EXCEEDS_PAID",
          `Only ${left} (minor units of ${payment.currency_code}) of what was paid is left to refund.`,
          inputField(input.amount == null ? "lines" : "amount"),
        ),
      );
    }

    const answer = await deps.payments.refund({
      idempotencyKey: providerRefundKey(orderId, input.idempotencyKey),
      captureReference: payment.reference,
      amount,
      currencyCode: payment.currency_code,
    });
    const refund = await insertRefund(
      trx,
      {
        id: randomUUID(),
        order_id: orderId,
        customer_id: order.customer_id,
        external_ref: null,
        currency_code: order.currency_code,
        amount,
        reason: input.reason.trim(),
        refunded_at: new Date(),
        idempotency_key: input.idempotencyKey,
        provider_reference: answer.reference,
        restock,
      },
      lines,
    );
    if (amount === left) await markPaymentRefunded(trx, orderId);
    await appendToOutbox(trx, "OrderRefunded", refund.id, {
      refundId: refund.id,
      orderId,
      customerId: order.customer_id,
      currencyCode: refund.currency_code,
      amount,
      lines: lines.map((line) => ({
        productId: line.product_id,
        quantity: line.quantity,
        unitPrice: line.unit_price,
      })),
      reason: refund.reason,
      restock,
    });
    return { refund: toRefundModel(refund), order: toOrderModel(order), userErrors: [] };
  });
}
