/**
 * A customer's purchase behaviour as of an instant T, from sales placed at or before T and
 * refunds made at or before T, in the store currency. Days are fractional (86 400 s each);
 * "the last N days" is (T - N days, T], "the N days before" is (T - 2N days, T - N days].
 */
export interface CustomerFeatures {
  customerId: string;
  /** Days from the latest order to T. */
  recencyDays: number;
  /** Days from the first order to T. */
  tenureDays: number;
  /** Orders (sales) placed at or before T. */
  orders: number;
  /** Revenue of those orders before refunds, minor units. */
  grossRevenue: number;
  /** Refunds made to the customer at or before T, minor units. */
  refunded: number;
  units: number;
  /** Order lines (an order's distinct products) across all orders. */
  lines: number;
  distinctProducts: number;
  orders30: number;
  ordersPrev30: number;
  orders90: number;
  ordersPrev90: number;
  orders180: number;
  ordersPrev180: number;
  revenue90: number;
  revenuePrev90: number;
}

/** Revenue net of refunds; the M of RFM. */
export const monetary = (f: CustomerFeatures): number => f.grossRevenue - f.refunded;

/**
 * Mean days between consecutive orders. With one order there is no gap yet; the time since it
 * stands in, so a one-time buyer looks "due" exactly now (overdue ratio 1).
 */
export const meanGapDays = (f: CustomerFeatures): number =>
  f.orders > 1 ? Math.max(f.tenureDays - f.recencyDays, 0) / (f.orders - 1) : Math.max(f.tenureDays, 0);

/** Share of gross revenue refunded, 0..1. */
export const returnShare = (f: CustomerFeatures): number =>
  f.grossRevenue > 0 ? Math.min(Math.max(f.refunded / f.grossRevenue, 0), 1) : 0;

const log = (value: number) => Math.log1p(Math.max(value, 0));

export interface ModelFeature {
  /** Stable key, stored with each model. */
  key: string;
  /** What a person reads in `drivers`. */
  name: string;
  value: (f: CustomerFeatures) => number;
}

/**
 * The churn model's inputs. Counts, money and durations are heavy-tailed, so they enter as
 * log(1 + x); trends are differences of those logs (recent window against the one before).
 */
export const MODEL_FEATURES: readonly ModelFeature[] = [
  { key: "recency", name: "days since the last order", value: (f) => log(f.recencyDays) },
  { key: "frequency", name: "number of orders", value: (f) => log(f.orders) },
  { key: "monetary", name: "revenue net of refunds", value: (f) => log(monetary(f)) },
  { key: "tenure", name: "days since the first order", value: (f) => log(f.tenureDays) },
  { key: "orders30", name: "orders in the last 30 days", value: (f) => log(f.orders30) },
  { key: "orders90", name: "orders in the last 90 days", value: (f) => log(f.orders90) },
  { key: "orders180", name: "orders in the last 180 days", value: (f) => log(f.orders180) },
  {
    key: "ordersTrend30",
    name: "orders in the last 30 days against the 30 before",
    value: (f) => log(f.orders30) - log(f.ordersPrev30),
  },
  {
    key: "ordersTrend90",
    name: "orders in the last 90 days against the 90 before",
    value: (f) => log(f.orders90) - log(f.ordersPrev90),
  },
  {
    key: "ordersTrend180",
    name: "orders in the last 180 days against the 180 before",
    value: (f) => log(f.orders180) - log(f.ordersPrev180),
  },
  {
    key: "revenueTrend90",
    name: "revenue in the last 90 days against the 90 before",
    value: (f) => log(f.revenue90) - log(f.revenuePrev90),
  },
  { key: "basketUnits", name: "units per order", value: (f) => log(f.units / Math.max(f.orders, 1)) },
  {
    key: "basketProducts",
    name: "distinct products per order",
    value: (f) => log(f.lines / Math.max(f.orders, 1)),
  },
  { key: "distinctProducts", name: "distinct products bought", value: (f) => log(f.distinctProducts) },
  { key: "returnShare", name: "share of spend refunded", value: returnShare },
  { key: "gap", name: "mean days between orders", value: (f) => log(meanGapDays(f)) },
  {
    key: "overdue",
    name: "days since the last order relative to the usual gap",
    value: (f) => log(f.recencyDays / Math.max(meanGapDays(f), 1)),
  },
];

export const featureVector = (f: CustomerFeatures): number[] =>
  MODEL_FEATURES.map((feature) => feature.value(f));

export const featureName = (key: string): string =>
  MODEL_FEATURES.find((feature) => feature.key === key)?.name ?? key;
