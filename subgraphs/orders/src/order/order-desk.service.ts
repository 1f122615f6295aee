import {
  badUserInput,
  type Connection,
  type CursorPart,
  cursorPart,
  encodeCursor,
  isUuid,
  looksLikeGlobalId,
  type PageArgs,
  pageArgs,
  parseGlobalId,
  readCursor,
  toPagedConnection,
} from "@nexus/core";
import type { Kysely } from "kysely";
import { type Database, ORDER_STATUSES, type OrderStatus } from "../db/database.ts";
import type { OrderLoaders } from "./order.loaders.ts";
import { type OrderModel, toOrderModel } from "./order.model.ts";
import {
  countDeskOrders,
  DESK_SORTS,
  type DeskFilter,
  type DeskPosition,
  type DeskSearch,
  type DeskSort,
  deskSortValue,
  findDeskPage,
} from "./order-desk.repository.ts";

export type { DeskSort } from "./order-desk.repository.ts";

/** What the desk needs: the store, and this request's `orderById` to prime with the page it read. */
export interface OrderDeskDeps {
  db: Kysely<Database>;
  loaders: Pick<OrderLoaders, "orderById">;
}

export interface OrderDeskArgs extends PageArgs {
  sort?: DeskSort | null;
  filter?: {
    status?: readonly OrderStatus[] | null;
    placedAfter?: Date | null;
    placedBefore?: Date | null;
    customer?: string | null;
    search?: string | null;
  } | null;
}

const MAX_SEARCH = 100;
const MIN_NAME_SEARCH = 3;
/** 8 hex digits is the first block of a UUID, what a receipt or an email shows as the order number. */
const MIN_ID_PREFIX = 8;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** The largest int4, so a TOTAL_DESC cursor never names a total the column cannot hold. */
const MAX_INT4 = 2 ** 31 - 1;

/** The sort key's part of a cursor; each sort tags its cursors so one cannot be fed to another. */
const SORT_KEY: Record<DeskSort, CursorPart<Date | number>> = {
  PLACED_AT_DESC: cursorPart.isoInstant,
  PLACED_AT_ASC: cursorPart.isoInstant,
  UPDATED_AT_DESC: cursorPart.isoInstant,
  TOTAL_DESC: cursorPart.integer(0, MAX_INT4),
};

const encodeValue = (value: Date | number): string | number =>
  value instanceof Date ? value.toISOString() : value;

const asUuid = (hex: string) =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;

/**
 * Reads the start of an order id: hex digits, with dashes only where a UUID has them. Returns
 * the lowest and highest UUID that start that way, or null when the term is not such a prefix.
 */
function idPrefixRange(term: string): { low: string; high: string } | null {
  const lower = term.toLowerCase();
  const hex = lower.replaceAll("-", "");
  if (hex.length < MIN_ID_PREFIX || hex.length >= 32 || !/^[0-9a-f]+$/.test(hex)) return null;
  const low = asUuid(hex.padEnd(32, "0"));
  // With dashes, they must sit where a UUID's are, so "1234-5678-90" reads as a product name.
  if (lower.includes("-") && !low.startsWith(lower)) return null;
  return { low, high: asUuid(hex.padEnd(32, "f")) };
}

/** What the search box's term is; see `OrderFilter.search` in the SDL. */
function readSearch(raw: string): DeskSearch {
  const term = raw.trim();
  if (term.length === 0) throw badUserInput("search must not be empty.", "filter.search");
  if (term.length > MAX_SEARCH) {
    throw badUserInput(`search must be at most ${MAX_SEARCH} characters.`, "filter.search");
  }
  if (isUuid(term)) return { kind: "id", id: term.toLowerCase() };
  if (looksLikeGlobalId(term)) {
    // An order's id as the API shows it, pasted in: that order.
    const id = parseGlobalId(term);
    if (id?.type !== "Order" || !isUuid(id.raw)) {
      throw badUserInput(
        `search takes an order's id; "${term}" is not one (a customer's orders: filter.customer).`,
        "filter.search",
      );
    }
    return { kind: "id", id: id.raw.toLowerCase() };
  }
  if (EMAIL.test(term)) return { kind: "email", email: term.toLowerCase() };
  const range = idPrefixRange(term);
  if (range) return { kind: "idPrefix", ...range };
  if (term.length < MIN_NAME_SEARCH) {
    throw badUserInput(
      `search must be at least ${MIN_NAME_SEARCH} characters to look for a product name.`,
      "filter.search",
    );
  }
  // LIKE's own wildcards in the term are literal characters here.
  return { kind: "productName", pattern: `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%` };
}

function readFilter(filter: OrderDeskArgs["filter"]): DeskFilter {
  const statuses = filter?.status ?? null;
  if (statuses !== null) {
    if (statuses.length === 0 || statuses.length > ORDER_STATUSES.length) {
      throw badUserInput(`status must list 1 to ${ORDER_STATUSES.length} statuses.`, "filter.status");
    }
  }
  const placedAfter = filter?.placedAfter ?? null;
  const placedBefore = filter?.placedBefore ?? null;
  if (placedAfter && placedBefore && placedAfter.getTime() > placedBefore.getTime()) {
    throw badUserInput("placedAfter must not be later than placedBefore.", "filter.placedAfter");
  }
  const customer = filter?.customer ?? null;
  if (customer !== null && !isUuid(customer)) {
    throw badUserInput("customer must be a user id.", "filter.customer");
  }
  const search = filter?.search;
  return {
    statuses: statuses && [...new Set(statuses)],
    placedAfter,
    placedBefore,
    customerId: customer?.toLowerCase() ?? null,
    search: search === null || search === undefined ? null : readSearch(search),
  };
}

/**
 * `Query.orders`, the staff desk: every argument checked first, then one statement for the
 * page and one for the count, side by side. Lines and the rest come through the loaders.
 * Pages forward (`first`/`after`) or backward (`last`/`before`) with the same cursors.
 */
export async function listDeskOrders(
  deps: OrderDeskDeps,
  args: OrderDeskArgs,
): Promise<Connection<OrderModel>> {
  const page = pageArgs(args);
  const sort: DeskSort = args.sort ?? "PLACED_AT_DESC";
  if (!DESK_SORTS.includes(sort)) throw badUserInput("sort is not one of the desk's sorts.", "sort");
  const filter = readFilter(args.filter);
  const position = readCursor(
    page.cursor,
    [cursorPart.tag(sort), SORT_KEY[sort], cursorPart.uuid],
    page.cursorField,
  );
  const after: DeskPosition | null = position && { value: position[1], id: position[2] };
  const [rows, totalCount] = await Promise.all([
    findDeskPage(deps.db, { filter, sort, after, limit: page.size + 1, backward: page.backward }),
    countDeskOrders(deps.db, filter),
  ]);
  const values = new Map(rows.map((row) => [row.id, deskSortValue(row, sort)]));
  const orders = rows.map((row) => {
    const order = toOrderModel(row);
    deps.loaders.orderById.prime(order.id, order);
    return order;
  });
  return toPagedConnection(orders, page, totalCount, (order) =>
    encodeCursor([sort, encodeValue(values.get(order.id) ?? 0), order.id]),
  );
}
