import {
  type Connection,
  cursorPart,
  encodeCursor,
  type Money,
  pageSize,
  readCursor,
  toConnection,
} from "@nexus/core";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import {
  type CategoryPerformanceModel,
  changeRatio,
  checkCurrency,
  checkPeriod,
  type ProductPerformanceModel,
  type ProductSalesModel,
  previousPeriod,
  type TrendInterval,
  toCategoryPerformanceModel,
  toProductPerformanceModel,
  toProductSalesModel,
  trendPeriods,
} from "./sales.model.ts";
import {
  countCustomers,
  findDailySales,
  findPerformance,
  findTopProducts,
  type PerformanceRow,
  type PerformanceSort,
  sumDailySales,
} from "./sales.repository.ts";

export interface SalesDeps {
  db: Kysely<Database>;
  /** The currency figures are reported in when a query names none (STORE_CURRENCY). */
  storeCurrency: string;
}

/** `topProducts`: the page size is checked (10 by default) before the one aggregate query. */
export async function topProducts(
  deps: { db: Kysely<Database> },
  first: number | null | undefined,
): Promise<ProductSalesModel[]> {
  const limit = pageSize(first, 10);
  return (await findTopProducts(deps.db, limit)).map(toProductSalesModel);
}

interface Comparison<T> {
  current: T;
  previous: T;
  changeRatio: number | null;
}

const compare = (current: number, previous: number): Comparison<number> => ({
  current,
  previous,
  changeRatio: changeRatio(current, previous),
});

const compareMoney = (current: number, previous: number, currencyCode: string): Comparison<Money> => ({
  current: { amount: current, currencyCode },
  previous: { amount: previous, currencyCode },
  changeRatio: changeRatio(current, previous),
});

const share = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);

export interface SalesOverviewArgs {
  from: Date;
  to: Date;
  currencyCode?: string | null;
}

/** `salesOverview`: the arguments are checked, then two queries (the day roll-up, the customers). */
export async function salesOverview(deps: SalesDeps, args: SalesOverviewArgs) {
  const period = checkPeriod(args.from, args.to);
  const currencyCode = checkCurrency(args.currencyCode, deps.storeCurrency);
  const previous = previousPeriod(period);
  const totals = await sumDailySales(deps.db, currencyCode, period, previous);
  const customers = await countCustomers(deps.db, currencyCode, period, previous);
  const aov = (t: { revenue: number; orders: number }) =>
    t.orders === 0 ? 0 : Math.round(t.revenue / t.orders);
  const currentShare = share(customers.current.returning, customers.current.customers);
  const previousShare = share(customers.previous.returning, customers.previous.customers);
  return {
    from: period.from,
    to: period.to,
    previousFrom: previous.from,
    revenue: compareMoney(
      totals.current.revenue - totals.current.refunded,
      totals.previous.revenue - totals.previous.refunded,
      currencyCode,
    ),
    refunded: compareMoney(totals.current.refunded, totals.previous.refunded, currencyCode),
    orders: compare(totals.current.orders, totals.previous.orders),
    units: compare(totals.current.units, totals.previous.units),
    customers: compare(customers.current.customers, customers.previous.customers),
    averageOrderValue: compareMoney(aov(totals.current), aov(totals.previous), currencyCode),
    returningCustomerShare: {
      current: currentShare,
      previous: previousShare,
      change: currentShare === null || previousShare === null ? null : currentShare - previousShare,
    },
  };
}

/** `salesTrend`: every period of the range, zeros included, from one query over the day roll-up. */
export async function salesTrend(
  deps: SalesDeps,
  args: SalesOverviewArgs & { interval: TrendInterval },
): Promise<{ from: Date; to: Date; revenue: Money; orders: number; units: number }[]> {
  const period = checkPeriod(args.from, args.to);
  const currencyCode = checkCurrency(args.currencyCode, deps.storeCurrency);
  const periods = trendPeriods(period, args.interval);
  const days = await findDailySales(deps.db, currencyCode, period);
  let next = 0;
  return periods.map((point) => {
    let revenue = 0;
    let orders = 0;
    let units = 0;
    // Both lists are in order, so each day is visited once.
    for (let day = days[next]; day !== undefined && day.day < point.toDay; day = days[++next]) {
      revenue += day.revenue - day.refunded;
      orders += day.orders;
      units += day.units;
    }
    return { from: point.from, to: point.to, revenue: { amount: revenue, currencyCode }, orders, units };
  });
}

export interface PerformanceArgs extends SalesOverviewArgs {
  first?: number | null;
  after?: string | null;
  sortBy?: PerformanceSort | null;
}

/** Positions are cursors: the rows are aggregates, ranked by figures that have no row of their own. */
const MAX_POSITION = 1_000_000;

async function performancePage<T>(
  deps: SalesDeps,
  by: "product" | "category",
  args: PerformanceArgs & { categoryId?: string | null },
  toModel: (row: PerformanceRow, currencyCode: string) => T,
): Promise<Connection<T>> {
  const period = checkPeriod(args.from, args.to);
  const currencyCode = checkCurrency(args.currencyCode, deps.storeCurrency);
  const first = pageSize(args.first);
  const sortBy = args.sortBy ?? "REVENUE";
  // The tag names the field and the sort, so a cursor of another ranking is refused.
  const tag = `${by}:${sortBy}`;
  const [, offset] = readCursor(args.after, [cursorPart.tag(tag), cursorPart.integer(1, MAX_POSITION)]) ?? [
    tag,
    0,
  ];
  const rows = await findPerformance(deps.db, {
    by,
    currencyCode,
    range: period,
    sortBy,
    categoryId: args.categoryId ?? null,
    offset,
    limit: first + 1,
  });
  const models = rows.map((row, index) => ({
    model: toModel(row, currencyCode),
    position: offset + index + 1,
  }));
  const connection = toConnection(
    models,
    first,
    rows[0]?.total_count ?? 0,
    (row) => encodeCursor([tag, row.position]),
    offset > 0,
  );
  return {
    ...connection,
    edges: connection.edges.map((edge) => ({ cursor: edge.cursor, node: edge.node.model })),
  };
}

/** `productPerformance`: arguments checked, then one query over the per-day product roll-up. */
export const productPerformance = (
  deps: SalesDeps,
  args: PerformanceArgs & { categoryId?: string | null },
): Promise<Connection<ProductPerformanceModel>> =>
  performancePage(deps, "product", args, toProductPerformanceModel);

/** `categoryPerformance`: arguments checked, then one query over the per-day category roll-up. */
export const categoryPerformance = (
  deps: SalesDeps,
  args: PerformanceArgs,
): Promise<Connection<CategoryPerformanceModel>> =>
  performancePage(deps, "category", args, toCategoryPerformanceModel);
