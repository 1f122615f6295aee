import { isUuid, type Money } from "@nexus/core";
import type { EventEnvelope } from "@nexus/events";
import type { Insertable } from "kysely";
import type { CartFactsTable, CartLineJson } from "../db/database.ts";
import type { AbandonedCartRow } from "./carts.repository.ts";

export type CartFactInsert = Insertable<CartFactsTable>;

/**
 * The customer's cart after a CartUpdated, as the row to keep; an empty cart is a row without
 * lines. A malformed event throws, like every other fact the consumer records.
 */
export function toCartFact(event: EventEnvelope<"CartUpdated">): CartFactInsert {
  const { customerId, currencyCode, lines } = event.payload;
  const problems: string[] = [];
  if (typeof customerId !== "string" || !isUuid(customerId)) problems.push("customerId is not a UUID");
  if (currencyCode !== null && (typeof currencyCode !== "string" || !/^[A-Z]{3}$/.test(currencyCode))) {
    problems.push("currencyCode is neither an ISO 4217 code nor null");
  }
  if (!Array.isArray(lines)) problems.push("lines is not a list");
  const kept: CartLineJson[] = [];
  let units = 0;
  let value = 0;
  for (const line of Array.isArray(lines) ? lines : []) {
    if (typeof line?.productId !== "string" || line.productId === "") {
      problems.push("a line has no productId");
    } else if (!Number.isInteger(line.quantity) || line.quantity <= 0) {
      problems.push(`quantity ${line.quantity} of ${line.productId} is not a positive integer`);
    } else if (line.unitPrice !== null && (!Number.isSafeInteger(line.unitPrice) || line.unitPrice < 0)) {
      problems.push(`unitPrice ${line.unitPrice} of ${line.productId} is neither a whole amount nor null`);
    } else {
      kept.push({ productId: line.productId, quantity: line.quantity, unitPrice: line.unitPrice });
      units += line.quantity;
      value += line.quantity * (line.unitPrice ?? 0);
    }
  }
  if (problems.length > 0) {
    throw new Error(`CartUpdated ${event.id} is malformed: ${problems.join("; ")}.`);
  }
  return {
    customer_id: customerId,
    currency_code: kept.length === 0 ? null : currencyCode,
    line_count: kept.length,
    units,
    value_amount: value,
    lines: JSON.stringify(kept),
    updated_at: new Date(event.occurredAt),
  };
}

/** What AbandonedCartLine resolvers receive; `product` becomes a stub. */
export interface AbandonedCartLineModel {
  productId: string;
  quantity: number;
  unitPrice: Money | null;
}

/** What AbandonedCart resolvers receive; `customer` becomes a User stub. */
export interface AbandonedCartModel {
  customerId: string;
  value: Money;
  units: number;
  lines: AbandonedCartLineModel[];
  updatedAt: Date;
}

export const toAbandonedCartModel = (row: AbandonedCartRow): AbandonedCartModel => ({
  customerId: row.customer_id,
  value: { amount: Number(row.value_amount), currencyCode: row.currency_code },
  units: row.units,
  lines: row.lines.map((line) => ({
    productId: line.productId,
    quantity: line.quantity,
    unitPrice: line.unitPrice === null ? null : { amount: line.unitPrice, currencyCode: row.currency_code },
  })),
  updatedAt: row.updated_at,
});
