import type { OrderValueRow, RiskOrderRow } from "./risk.repository.ts";

/**
 * Order risk by rules. There are no fraud labels (no chargebacks or confirmed frauds reach
 * insights), so nothing is learnt: each rule is a signal payment teams commonly watch, with a
 * weight that says how much it adds; the weights are judgement, documented, and the same for
 * every store.
 */
export type RiskCode =
  | "HIGH_VALUE_FOR_CUSTOMER"
  | "LARGE_FIRST_ORDER"
  | "GUEST_CHECKOUT"
  | "ORDER_VELOCITY"
  | "RECENT_PAYMENT_FAILURES"
  | "COUNTRY_MISMATCH";

export interface RiskReason {
  code: RiskCode;
  description: string;
  weight: number;
}

export type RiskLevel = "LOW" | "MEDIUM" | "HIGH";

export interface RiskAssessmentModel {
  score: number;
  level: RiskLevel;
  reasons: RiskReason[];
}

const HOUR_MS = 3_600_000;

export const RISK_RULES = {
  /** An order worth more than this many times the customer's previous average. */
  valueMultiple: 3,
  /** A first order at or above this percentile of the store's order values... */
  largeOrderPercentile: 0.95,
  /** ...once the store has this many sale orders in the currency to know its percentile. */
  minOrdersForPercentile: 20,
  /** This many orders or more by one customer within the window, this one included. */
  velocityOrders: 3,
  velocityWindowMs: 24 * HOUR_MS,
  /** Payment declines of the customer's orders in this window before the order. */
  paymentFailureWindowMs: 30 * 24 * HOUR_MS,
  weights: {
    HIGH_VALUE_FOR_CUSTOMER: 30,
    LARGE_FIRST_ORDER: 30,
    GUEST_CHECKOUT: 10,
    ORDER_VELOCITY: 20,
    /** Per declined order, at most two counted. */
    RECENT_PAYMENT_FAILURES: 20,
    COUNTRY_MISMATCH: 20,
  } satisfies Record<RiskCode, number>,
} as const;

/** Orders uses this prefix for every rejection by the payment provider. */
const PAYMENT_DECLINED = /^payment declined/i;

export const riskLevel = (score: number): RiskLevel =>
  score >= 60 ? "HIGH" : score >= 30 ? "MEDIUM" : "LOW";

const isSale = (order: RiskOrderRow) => order.confirmed_at !== null && order.reversal_kind === null;

/**
 * Assesses `order` against the customer's orders placed before it (`others`: any of theirs,
 * the rules pick what they need) and the store's order values in its currency.
 */
export function assessOrder(
  order: RiskOrderRow,
  others: readonly RiskOrderRow[],
  orderValues: OrderValueRow | undefined,
): RiskAssessmentModel {
  const { weights } = RISK_RULES;
  const placed = order.placed_at.getTime();
  const previous = others.filter(
    (other) => other.order_id !== order.order_id && other.placed_at.getTime() < placed,
  );
  const reasons: RiskReason[] = [];

  if (order.customer_id === null) {
    reasons.push({
      code: "GUEST_CHECKOUT",
      description: "Placed as a guest: there is no account history to vouch for it.",
      weight: weights.GUEST_CHECKOUT,
    });
  }

  const previousSales = previous.filter(
    (other) => isSale(other) && other.currency_code === order.currency_code,
  );
  if (previousSales.length > 0) {
    const average = previousSales.reduce((sum, other) => sum + other.total_amount, 0) / previousSales.length;
    if (average > 0 && order.total_amount > RISK_RULES.valueMultiple * average) {
      reasons.push({
        code: "HIGH_VALUE_FOR_CUSTOMER",
        description: `Worth ${(order.total_amount / average).toFixed(1)} times this customer's average over ${previousSales.length} earlier order(s).`,
        weight: weights.HIGH_VALUE_FOR_CUSTOMER,
      });
    }
  }

  if (
    previous.length === 0 &&
    orderValues !== undefined &&
    orderValues.orders >= RISK_RULES.minOrdersForPercentile &&
    order.total_amount >= orderValues.p95
  ) {
    reasons.push({
      code: "LARGE_FIRST_ORDER",
      description: "A first order larger than 95% of the store's orders in its currency.",
      weight: weights.LARGE_FIRST_ORDER,
    });
  }

  const recent = previous.filter(
    (other) => placed - other.placed_at.getTime() <= RISK_RULES.velocityWindowMs,
  );
  if (order.customer_id !== null && recent.length + 1 >= RISK_RULES.velocityOrders) {
    reasons.push({
      code: "ORDER_VELOCITY",
      description: `${recent.length + 1} orders by this customer within 24 hours.`,
      weight: weights.ORDER_VELOCITY,
    });
  }

  const declined = previous.filter(
    (other) =>
      other.reversal_kind === "REJECTED" &&
      PAYMENT_DECLINED.test(other.reversal_reason ?? "") &&
      placed - other.placed_at.getTime() <= RISK_RULES.paymentFailureWindowMs,
  );
  if (declined.length > 0) {
    reasons.push({
      code: "RECENT_PAYMENT_FAILURES",
      description: `${declined.length} order(s) of this customer had their payment declined in the 30 days before.`,
      weight: weights.RECENT_PAYMENT_FAILURES * Math.min(declined.length, 2),
    });
  }

  const countries = new Set(
    previous.flatMap((other) => (other.country_code === null ? [] : [other.country_code])),
  );
  if (order.country_code !== null && countries.size > 0 && !countries.has(order.country_code)) {
    reasons.push({
      code: "COUNTRY_MISMATCH",
      description: `Ships to ${order.country_code}; this customer's earlier orders went to ${[...countries].sort().join(", ")}.`,
      weight: weights.COUNTRY_MISMATCH,
    });
  }

  reasons.sort((a, b) => b.weight - a.weight || (a.code < b.code ? -1 : 1));
  const score = Math.min(
    100,
    reasons.reduce((sum, reason) => sum + reason.weight, 0),
  );
  return { score, level: riskLevel(score), reasons };
}
