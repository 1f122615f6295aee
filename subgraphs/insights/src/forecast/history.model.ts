import { denseSeries, seasonalIndices, weeksBetween } from "./forecast.model.ts";
import type { ForecastRows } from "./forecast.repository.ts";

/** What a product's forecast is fitted on. */
export interface ProductHistory {
  /** The first week forecast: the week after the last full week of history. */
  origin: Date;
  /** The first week of the series: the product's first sale (or refund). */
  firstWeek: Date;
  /** Net units per week from `firstWeek` up to `origin`, never below zero. */
  series: number[];
  /** The seasonal shape used: the category's, else the store's; null when neither has 78 weeks. */
  seasonal: number[] | null;
  categorySeasonality: boolean;
}

/** Sparse weekly values keyed by the week's time; rows of one week add up. */
export function sparse(rows: readonly { week: Date; units: number }[]): Map<number, number> {
  const values = new Map<number, number>();
  for (const row of rows)
    values.set(row.week.getTime(), (values.get(row.week.getTime()) ?? 0) + Number(row.units));
  return values;
}

/** The seasonal shape of weekly rows, from their first week up to `end`. */
function shapeOf(rows: readonly { week: Date; units: number }[], end: Date): number[] | null {
  if (rows.length === 0) return null;
  const first = new Date(Math.min(...rows.map((row) => row.week.getTime())));
  return seasonalIndices(denseSeries(weeksBetween(first, end), sparse(rows)), first);
}

const groupBy = <Row, Key>(rows: readonly Row[], key: (row: Row) => Key) => {
  const groups = new Map<Key, Row[]>();
  for (const row of rows) {
    const list = groups.get(key(row)) ?? [];
    list.push(row);
    groups.set(key(row), list);
  }
  return groups;
};

/**
 * Each product's history up to `rows.end`, with the seasonal shape it is forecast with: its
 * category's, pooled over the category's products (one product's weeks of the year are too
 * noisy to trust), else the whole store's. Products with no sale before the end are absent.
 */
export function buildHistories(rows: ForecastRows): Map<string, ProductHistory> {
  const histories = new Map<string, ProductHistory>();
  const { end } = rows;
  if (end === null) return histories;
  const store = shapeOf(rows.saleWeeks, end);
  const byCategory = groupBy(rows.categoryWeeks, (row) => row.category_id);
  const shapes = new Map<string, number[] | null>();
  const categoryShape = (categoryId: string) => {
    if (!shapes.has(categoryId)) shapes.set(categoryId, shapeOf(byCategory.get(categoryId) ?? [], end));
    return shapes.get(categoryId) ?? null;
  };
  const categoryOf = new Map(rows.categories.map((row) => [row.product_id, row.category_id]));
  for (const [productId, weeks] of groupBy(rows.productWeeks, (row) => row.product_id)) {
    const firstWeek = new Date(Math.min(...weeks.map((row) => row.week.getTime())));
    const categoryId = categoryOf.get(productId);
    const own = categoryId === undefined ? null : categoryShape(categoryId);
    histories.set(productId, {
      origin: end,
      firstWeek,
      series: denseSeries(weeksBetween(firstWeek, end), sparse(weeks)).map((units) => Math.max(units, 0)),
      seasonal: own ?? store,
      categorySeasonality: own !== null,
    });
  }
  return histories;
}
