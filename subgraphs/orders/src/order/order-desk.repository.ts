import { type Kysely, type RawBuilder, sql } from "kysely";
import type { Database, OrderStatus } from "../db/database.ts";
import type { OrderRow } from "./order.repository.ts";

/** The orders of the staff desk can be sorted by these; each has an index of its own (0008). */
export const DESK_SORTS = ["PLACED_AT_DESC", "PLACED_AT_ASC", "UPDATED_AT_DESC", "TOTAL_DESC"] as const;
export type DeskSort = (typeof DESK_SORTS)[number];

/** What the desk's search term was read as; see `order-desk.service.ts` for the rules. */
export type DeskSearch =
  | { kind: "id"; id: string }
  | { kind: "idPrefix"; low: string; high: string }
  | { kind: "email"; email: string }
  | { kind: "productName"; pattern: string };

export interface DeskFilter {
  statuses: readonly OrderStatus[] | null;
  /** Inclusive. */
  placedAfter: Date | null;
  /** Exclusive. */
  placedBefore: Date | null;
  customerId: string | null;
  search: DeskSearch | null;
}

/** The sort key of the last order of the previous page and its id, the tie-breaker. */
export type DeskPosition = { value: Date | number; id: string };

export interface DeskPageRequest {
  filter: DeskFilter;
  sort: DeskSort;
  after: DeskPosition | null;
  limit: number;
  /**
   * Read the other way: the `limit` orders before `after` (or the end of the list), nearest it
   * first, i.e. in reversed list order. Absent: forward.
   */
  backward?: boolean | undefined;
}

const SORT_COLUMN = {
  PLACED_AT_DESC: "placed_at",
  PLACED_AT_ASC: "placed_at",
  UPDATED_AT_DESC: "updated_at",
  TOTAL_DESC: "total_amount",
} as const satisfies Record<DeskSort, keyof OrderRow>;

/** The column a sort orders by, for building a cursor from a row. */
export const deskSortValue = (row: OrderRow, sort: DeskSort): Date | number => row[SORT_COLUMN[sort]];

function whereOf(filter: DeskFilter): RawBuilder<unknown> {
  const conditions: RawBuilder<unknown>[] = [];
  if (filter.statuses) conditions.push(sql`o.status = ANY(${filter.statuses}::text[])`);
  if (filter.placedAfter) conditions.push(sql`o.placed_at >= ${filter.placedAfter}`);
  if (filter.placedBefore) conditions.push(sql`o.placed_at < ${filter.placedBefore}`);
  if (filter.customerId) conditions.push(sql`o.customer_id = ${filter.customerId}::uuid`);
  const search = filter.search;
  if (search?.kind === "id") conditions.push(sql`o.id = ${search.id}::uuid`);
  if (search?.kind === "idPrefix") {
    // A range of the primary key rather than `id::text LIKE`, which no index answers.
    conditions.push(sql`o.id BETWEEN ${search.low}::uuid AND ${search.high}::uuid`);
  }
  if (search?.kind === "email") conditions.push(sql`o.guest_email = ${search.email}`);
  if (search?.kind === "productName") {
    conditions.push(sql`o.id IN (
      SELECT l.order_id FROM order_lines l WHERE l.product_name ILIKE ${search.pattern})`);
  }
  return conditions.length === 0 ? sql`TRUE` : sql.join(conditions, sql` AND `);
}

/** Whether the scan goes up the (sort column, id) index: the ascending sort forward, the others backward. */
const ascending = (sort: DeskSort, backward: boolean) => (sort === "PLACED_AT_ASC") !== backward;

function keysetOf(sort: DeskSort, after: DeskPosition | null, backward: boolean): RawBuilder<unknown> {
  if (!after) return sql`TRUE`;
  const column = sql.ref(`o.${SORT_COLUMN[sort]}`);
  return ascending(sort, backward)
    ? sql`(${column}, o.id) > (${after.value}, ${after.id}::uuid)`
    : sql`(${column}, o.id) < (${after.value}, ${after.id}::uuid)`;
}

function orderByOf(sort: DeskSort, backward: boolean): RawBuilder<unknown> {
  const column = sql.ref(`o.${SORT_COLUMN[sort]}`);
  return ascending(sort, backward) ? sql`${column} ASC, o.id ASC` : sql`${column} DESC, o.id DESC`;
}

/**
 * The two statements of one desk page: the page (the filters, then a keyset on (sort column, id)
 * so a later page starts where the cursor points however many orders came before it) and the
 * count of everything the filter matches. The benchmark explains exactly these.
 */
export function deskStatements(request: DeskPageRequest): {
  page: RawBuilder<OrderRow>;
  count: RawBuilder<{ count: number }>;
} {
  const where = whereOf(request.filter);
  const backward = request.backward ?? false;
  return {
    page: sql<OrderRow>`SELECT o.* FROM orders o
      WHERE ${where} AND ${keysetOf(request.sort, request.after, backward)}
      ORDER BY ${orderByOf(request.sort, backward)}
      LIMIT ${request.limit}`,
    count: sql<{ count: number }>`SELECT count(*)::int AS count FROM orders o WHERE ${where}`,
  };
}

export async function findDeskPage(db: Kysely<Database>, request: DeskPageRequest): Promise<OrderRow[]> {
  const { rows } = await deskStatements(request).page.execute(db);
  return rows;
}

/** How many orders the filter matches across all pages. */
export async function countDeskOrders(db: Kysely<Database>, filter: DeskFilter): Promise<number> {
  const request = { filter, sort: "PLACED_AT_DESC" as const, after: null, limit: 0 };
  const { rows } = await deskStatements(request).count.execute(db);
  return rows[0]?.count ?? 0;
}
