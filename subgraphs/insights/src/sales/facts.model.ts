import { isUuid } from "@nexus/core";
import type { EventEnvelope } from "@nexus/events";
import type {
  OrderFactInsert,
  OrderLineFactInsert,
  RefundFactInsert,
  RefundLineFactInsert,
} from "./facts.repository.ts";

/**
 * Events -> fact rows, checked. A malformed event is a producer bug: these throw, the job fails
 * visibly and ends in the failed set instead of skewing every figure built on the facts.
 */

const ISO_CURRENCY = /^[A-Z]{3}$/;
const ISO_COUNTRY = /^[A-Z]{2}$/;

export const isCurrencyCode = (value: unknown): value is string =>
  typeof value === "string" && ISO_CURRENCY.test(value);

const isOptionalUuid = (value: unknown) => value === null || value === undefined || isUuid(value as string);
const isWholeAmount = (value: unknown): value is number =>
  Number.isSafeInteger(value) && (value as number) >= 0;
const isPositiveCount = (value: unknown): value is number =>
  Number.isInteger(value) && (value as number) > 0 && (value as number) <= 2_147_483_647;

interface PricedLine {
  productId: string;
  quantity: number;
  unitPrice: number;
  /** What discounts took off the line (OrderPlaced); absent for returns and older events. */
  discount?: number;
}

interface MergedLine {
  productId: string;
  quantity: number;
  /** The first line's price: orders snapshots one price per product at checkout. */
  unitPrice: number;
  /** Every merged line's quantity * unitPrice less its discount, so an import selling one product at two prices keeps its revenue. */
  amount: number;
}

/** Checks each line and merges the lines of one product; problems go to `problems`. */
function mergeLines(lines: unknown, problems: string[]): Map<string, MergedLine> {
  const byProduct = new Map<string, MergedLine>();
  if (!Array.isArray(lines) || lines.length === 0) {
    problems.push("it has no lines");
    return byProduct;
  }
  for (const line of lines as PricedLine[]) {
    if (typeof line?.productId !== "string" || line.productId === "") {
      problems.push("a line has no productId");
    } else if (!isPositiveCount(line.quantity)) {
      problems.push(`quantity ${line.quantity} of ${line.productId} is not a positive integer`);
    } else if (!isWholeAmount(line.unitPrice)) {
      problems.push(`unitPrice ${line.unitPrice} of ${line.productId} is not a whole amount of minor units`);
    } else if (
      line.discount !== undefined &&
      (!isWholeAmount(line.discount) || line.discount > line.quantity * line.unitPrice)
    ) {
      problems.push(
        `discount ${line.discount} of ${line.productId} is not a whole amount up to the line's price`,
      );
    } else {
      // Revenue is what the customer paid for the goods: the line's price less its discounts.
      const amount = line.quantity * line.unitPrice - (line.discount ?? 0);
      const merged = byProduct.get(line.productId);
      if (merged) {
        merged.quantity += line.quantity;
        merged.amount += amount;
      } else {
        byProduct.set(line.productId, {
          productId: line.productId,
          quantity: line.quantity,
          unitPrice: line.unitPrice,
          amount,
        });
      }
    }
  }
  return byProduct;
}

function checkTotals(lines: Iterable<MergedLine>, problems: string[]): { units: number; amount: number } {
  let units = 0;
  let amount = 0;
  for (const line of lines) {
    units += line.quantity;
    amount += line.amount;
  }
  if (units > 2_147_483_647) problems.push(`${units} units is more than one order can hold`);
  if (!Number.isSafeInteger(amount)) problems.push("the total is too large to add up exactly");
  return { units, amount };
}

export interface OrderFacts {
  order: OrderFactInsert;
  lines: OrderLineFactInsert[];
}

/**
 * One order fact and one line fact per product. Events queued before a field existed lack it:
 * no customer, country, product name or category is recorded as unknown (null).
 */
export function toOrderFacts(event: EventEnvelope<"OrderPlaced">): OrderFacts {
  const { orderId, customerId, currencyCode, countryCode, historical, lines } = event.payload;
  const problems: string[] = [];
  if (!isUuid(orderId)) problems.push("orderId is not a UUID");
  if (!isOptionalUuid(customerId)) problems.push("customerId is neither a UUID nor null");
  if (!isCurrencyCode(currencyCode)) problems.push("currencyCode is not an ISO 4217 code");
  if (countryCode !== undefined && countryCode !== null && !ISO_COUNTRY.test(countryCode)) {
    problems.push("countryCode is not an ISO 3166-1 alpha-2 code");
  }
  const merged = mergeLines(lines, problems);
  const { units, amount } = checkTotals(merged.values(), problems);
  if (problems.length > 0) {
    throw new Error(`OrderPlaced for order ${orderId} is malformed: ${problems.join("; ")}.`);
  }
  const named = new Map<string, { productName: string | null; categoryId: string | null }>();
  for (const line of lines) {
    const known = named.get(line.productId) ?? { productName: null, categoryId: null };
    named.set(line.productId, {
      productName: known.productName ?? (typeof line.productName === "string" ? line.productName : null),
      categoryId: known.categoryId ?? (typeof line.categoryId === "string" ? line.categoryId : null),
    });
  }
  return {
    order: {
      order_id: orderId,
      customer_id: customerId ?? null,
      currency_code: currencyCode,
      placed_at: new Date(event.occurredAt),
      country_code: countryCode ?? null,
      total_amount: amount,
      units,
      historical: historical === true,
    },
    lines: [...merged.values()].map((line) => ({
      order_id: orderId,
      product_id: line.productId,
      category_id: named.get(line.productId)?.categoryId ?? null,
      product_name: named.get(line.productId)?.productName ?? null,
      quantity: line.quantity,
      unit_price: line.unitPrice,
      amount: line.amount,
    })),
  };
}

export interface RefundFacts {
  refund: RefundFactInsert;
  lines: RefundLineFactInsert[];
}

/**
 * One refund fact and one line fact per product; the amount must be what the lines add up to,
 * except for a refund of an amount (no lines), which gives back money but no units.
 */
export function toRefundFacts(event: EventEnvelope<"OrderRefunded">): RefundFacts {
  const { refundId, orderId, customerId, currencyCode, amount, lines, reason, historical } = event.payload;
  const problems: string[] = [];
  const amountOnly = Array.isArray(lines) && lines.length === 0;
  if (!isUuid(refundId)) problems.push("refundId is not a UUID");
  if (!isOptionalUuid(orderId)) problems.push("orderId is neither a UUID nor null");
  if (!isOptionalUuid(customerId)) problems.push("customerId is neither a UUID nor null");
  if (!isCurrencyCode(currencyCode)) problems.push("currencyCode is not an ISO 4217 code");
  if (typeof reason !== "string") problems.push("reason is missing");
  const merged = amountOnly ? new Map<string, MergedLine>() : mergeLines(lines, problems);
  const totals = checkTotals(merged.values(), problems);
  if (!isWholeAmount(amount)) problems.push(`amount ${amount} is not a whole amount of minor units`);
  else if (amountOnly && amount === 0) problems.push("it refunds neither units nor money");
  else if (problems.length === 0 && !amountOnly && amount !== totals.amount) {
    problems.push(`amount ${amount} is not the lines' total ${totals.amount}`);
  }
  if (problems.length > 0) {
    throw new Error(`OrderRefunded ${refundId} is malformed: ${problems.join("; ")}.`);
  }
  return {
    refund: {
      refund_id: refundId,
      order_id: orderId ?? null,
      customer_id: customerId ?? null,
      currency_code: currencyCode,
      amount,
      refunded_at: new Date(event.occurredAt),
      reason,
      historical: historical === true,
    },
    lines: [...merged.values()].map((line) => ({
      refund_id: refundId,
      product_id: line.productId,
      quantity: line.quantity,
      unit_price: line.unitPrice,
      amount: line.amount,
    })),
  };
}

/** The order id of an outcome event (OrderConfirmed and the rest), checked. */
export function outcomeOrderId(event: EventEnvelope): string {
  const { orderId } = event.payload as { orderId?: unknown };
  if (typeof orderId !== "string" || !isUuid(orderId)) {
    throw new Error(`${event.type} ${event.id} is malformed: orderId is not a UUID.`);
  }
  return orderId;
}

/** The reason of an OrderCancelled or OrderRejected, checked. */
export function reversalReason(event: EventEnvelope<"OrderCancelled" | "OrderRejected">): string {
  const { reason } = event.payload as { reason?: unknown };
  if (typeof reason !== "string")
    throw new Error(`${event.type} ${event.id} is malformed: reason is missing.`);
  return reason;
}
