import { type Kysely, type Selectable, sql, type Transaction } from "kysely";
import type {
  Database,
  DiscountKind,
  OrderChannel,
  OrderDiscountsTable,
  OrderLinesTable,
  OrderStatus,
  OrderStatusChangesTable,
  OrdersTable,
  ShippingAddressJson,
  ShippingMethodJson,
} from "../db/database.ts";

export type OrderRow = Selectable<OrdersTable>;
export type OrderStatusChangeRow = Selectable<OrderStatusChangesTable>;
export type OrderDiscountRow = Selectable<OrderDiscountsTable>;
/** A line with its order's currency, which the line itself does not repeat. */
export type OrderLineRow = Selectable<OrderLinesTable> & { currency_code: string };

/** A position in the newest-first list of one customer's orders. */
export interface OrderKey {
  placedAt: Date;
  id: string;
}

/**
 * One page of one customer's orders: the `limit` orders placed before `after` (or the newest).
 * `backward` reads the other way: the `limit` orders placed after `after` (or the oldest),
 * nearest `after` first, i.e. in reversed list order.
 */
export interface OrderPageRequest {
  customerId: string;
  after: OrderKey | null;
  limit: number;
  backward: boolean;
}

/** An order known to exist (another row references it); throws when it does not. */
export async function getOrderById(db: Kysely<Database>, id: string): Promise<OrderRow> {
  return db.selectFrom("orders").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

/** Each line's product name by product id, for messages about the order's lines. */
export async function findLineNames(
  db: Kysely<Database>,
  orderId: string,
): Promise<{ product_id: string; product_name: string }[]> {
  return db
    .selectFrom("order_lines")
    .select(["product_id", "product_name"])
    .where("order_id", "=", orderId)
    .execute();
}

export async function findOrdersByIds(db: Kysely<Database>, ids: readonly string[]): Promise<OrderRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom("orders").selectAll().where("id", "in", ids).execute();
}

/** Every line of the given orders, in order and position order. */
export async function findLinesByOrderIds(
  db: Kysely<Database>,
  orderIds: readonly string[],
): Promise<OrderLineRow[]> {
  if (orderIds.length === 0) return [];
  return db
    .selectFrom("order_lines")
    .innerJoin("orders", "orders.id", "order_lines.order_id")
    .selectAll("order_lines")
    .select("orders.currency_code")
    .where("order_lines.order_id", "in", orderIds)
    .orderBy("order_lines.order_id")
    .orderBy("order_lines.position")
    .execute();
}

/**
 * The keyset bound of a request without a cursor: no order is placed at plus or minus
 * infinity, so every order lies within it whatever the id bound is.
 */
const FIRST_UUID = "00000000-0000-0000-0000-000000000000";
const LAST_UUID = "ffffffff-ffff-ffff-ffff-ffffffffffff";

/**
 * Several customers' pages in one statement: one keyset scan of the
 * (customer_id, placed_at desc, id desc) index per request, joined laterally.
 * Rows come back tagged with the index of the request they answer, in the request's direction
 * of travel: newest first, or going backward oldest first (nearest the cursor first).
 */

export async function findOrderPages(
  db: Kysely<Database>,
  requests: readonly OrderPageRequest[],
): Promise<(OrderRow & { request: number })[]> {
  if (requests.length === 0) return [];
  const { rows } = await sql<OrderRow & { request: number }>`
    SELECT (k.ordinality - 1)::int AS request, o.*
    FROM unnest(
      ${requests.map((r) => r.customerId)}::uuid[],
      ${requests.map((r) => r.after?.placedAt ?? null)}::timestamptz[],
      ${requests.map((r) => r.after?.id ?? null)}::uuid[],
      ${requests.map((r) => r.limit)}::int[],
      ${requests.map((r) => r.backward)}::boolean[]
    ) WITH ORDINALITY AS k(customer_id, after_placed_at, after_id, row_limit, backward, ordinality)
    CROSS JOIN LATERAL (
      -- One branch per direction, each an ordered scan of (customer_id, placed_at, id) with
      -- its own limit; the other branch is switched off by its constant condition. Without a
      -- cursor the bound lies past every order, so the keyset stays an index condition (an
      -- "IS NULL OR" would make it a filter over every order skipped).
      (
        SELECT * FROM orders
        WHERE NOT k.backward AND orders.customer_id = k.customer_id
          AND (orders.placed_at, orders.id)
            < (COALESCE(k.after_placed_at, 'infinity'), COALESCE(k.after_id, ${LAST_UUID}::uuid))
        ORDER BY orders.placed_at DESC, orders.id DESC
        LIMIT k.row_limit
      )
      UNION ALL
      (
        SELECT * FROM orders
        WHERE k.backward AND orders.customer_id = k.customer_id
          AND (orders.placed_at, orders.id)
            > (COALESCE(k.after_placed_at, '-infinity'), COALESCE(k.after_id, ${FIRST_UUID}::uuid))
        ORDER BY orders.placed_at, orders.id
        LIMIT k.row_limit
      )
    ) AS o
    ORDER BY k.ordinality,
      CASE WHEN k.backward THEN o.placed_at END, CASE WHEN k.backward THEN o.id END,
      o.placed_at DESC, o.id DESC
  `.execute(db);
  return rows;
}

export async function countOrdersByCustomerIds(
  db: Kysely<Database>,
  customerIds: readonly string[],
): Promise<{ customerId: string; count: number }[]> {
  if (customerIds.length === 0) return [];
  return db
    .selectFrom("orders")
    .select([sql<string>`customer_id`.as("customerId"), sql<number>`count(*)::int`.as("count")])
    .where("customer_id", "in", customerIds)
    .groupBy("customer_id")
    .execute();
}

/** Every status change of the given orders, oldest first. */
export async function findStatusChangesByOrderIds(
  db: Kysely<Database>,
  orderIds: readonly string[],
): Promise<OrderStatusChangeRow[]> {
  if (orderIds.length === 0) return [];
  return db
    .selectFrom("order_status_changes")
    .selectAll()
    .where("order_id", "in", orderIds)
    .orderBy("order_id")
    .orderBy("id")
    .execute();
}

export interface NewOrder {
  /** Chosen by the caller, so the idempotency key row can name the order before it is written. */
  id: string;
  /** Null for a guest checkout, which gives `guestEmail` instead. */
  customerId: string | null;
  guestEmail?: string | null;
  currencyCode: string;
  totalAmount: number;
  shippingAddress: ShippingAddressJson;
  paymentToken: string | null;
  /** Which client placed it; `partnerClient` names the partner when the channel is `partner`. */
  channel: OrderChannel;
  partnerClient: string | null;
  lines: {
    productId: string;
    productName: string;
    unitPrice: number;
    quantity: number;
    discount: number;
    tax: number;
    taxRatePpm: number;
  }[];
  /** The price breakdown; `totalAmount` is what it adds up to. */
  breakdown: {
    subtotal: number;
    lineDiscount: number;
    shipping: number;
    shippingDiscount: number;
    shippingTax: number;
    lineTax: number;
    pricesIncludeTax: boolean;
    shippingMethod: ShippingMethodJson | null;
  };
  /** What each discount took off, in the order they were applied. */
  discounts: {
    discountId: string;
    code: string | null;
    title: string;
    kind: DiscountKind;
    amount: number;
    shippingAmount: number;
    lines: { productId: string; amount: number }[];
  }[];
}

/**
 * Inserts a PENDING order, its lines and the first step of its history; run it in the
 * transaction that also records the event.
 */
export async function insertOrder(
  trx: Transaction<Database>,
  order: NewOrder,
): Promise<{ order: OrderRow; lines: OrderLineRow[] }> {
  const row = await trx
    .insertInto("orders")
    .values({
      id: order.id,
      customer_id: order.customerId,
      guest_email: order.guestEmail ?? undefined,
      currency_code: order.currencyCode,
      total_amount: order.totalAmount,
      subtotal_amount: order.breakdown.subtotal,
      discount_amount: order.breakdown.lineDiscount,
      shipping_amount: order.breakdown.shipping,
      shipping_discount_amount: order.breakdown.shippingDiscount,
      shipping_tax_amount: order.breakdown.shippingTax,
      tax_amount: order.breakdown.lineTax,
      prices_include_tax: order.breakdown.pricesIncludeTax,
      shipping_method: order.breakdown.shippingMethod
        ? JSON.stringify(order.breakdown.shippingMethod)
        : undefined,
      shipping_address: JSON.stringify(order.shippingAddress),
      payment_token: order.paymentToken ?? undefined,
      channel: order.channel,
      partner_client: order.partnerClient,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  const lines = await trx
    .insertInto("order_lines")
    .values(
      order.lines.map((line, position) => ({
        order_id: row.id,
        position,
        product_id: line.productId,
        product_name: line.productName,
        unit_price: line.unitPrice,
        quantity: line.quantity,
        discount_amount: line.discount,
        tax_amount: line.tax,
        tax_rate_ppm: line.taxRatePpm,
      })),
    )
    .returningAll()
    .execute();
  if (order.discounts.length > 0) {
    await trx
      .insertInto("order_discounts")
      .values(
        order.discounts.map((discount, position) => ({
          order_id: row.id,
          position,
          discount_id: discount.discountId,
          code: discount.code,
          title: discount.title,
          kind: discount.kind,
          amount: discount.amount,
          shipping_amount: discount.shippingAmount,
          lines: JSON.stringify(discount.lines),
        })),
      )
      .execute();
  }
  await trx
    .insertInto("order_status_changes")
    .values({ order_id: row.id, status: "PENDING", at: row.placed_at })
    .execute();
  return {
    order: row,
    lines: lines
      .map((line) => ({ ...line, currency_code: row.currency_code }))
      .sort((a, b) => a.position - b.position),
  };
}

/** The order, locked until the transaction ends, so no other transition can interleave. */
export async function findOrderForUpdate(
  trx: Transaction<Database>,
  orderId: string,
): Promise<OrderRow | undefined> {
  return trx.selectFrom("orders").selectAll().where("id", "=", orderId).forUpdate().executeTakeFirst();
}

/** Moves a locked order to `status` and appends the step to its history. */
export async function updateOrderStatus(
  trx: Transaction<Database>,
  orderId: string,
  status: OrderStatus,
  reason: string | null,
  changes: { trackingNumber?: string | null } = {},
): Promise<OrderRow> {
  const row = await trx
    .updateTable("orders")
    .set({
      status,
      updated_at: sql<Date>`now()`,
      ...(changes.trackingNumber !== undefined ? { tracking_number: changes.trackingNumber } : {}),
    })
    .where("id", "=", orderId)
    .returningAll()
    .executeTakeFirstOrThrow();
  await trx
    .insertInto("order_status_changes")
    .values({ order_id: orderId, status, reason, at: row.updated_at })
    .execute();
  return row;
}

/** The lines of one order, for events that name its products. */
export async function findLineProductIds(trx: Transaction<Database>, orderId: string): Promise<string[]> {
  const rows = await trx
    .selectFrom("order_lines")
    .select("product_id")
    .where("order_id", "=", orderId)
    .orderBy("position")
    .execute();
  return rows.map((row) => row.product_id);
}

/** Whether any refund was made against the order. */
export async function hasRefunds(trx: Transaction<Database>, orderId: string): Promise<boolean> {
  const row = await trx
    .selectFrom("refunds")
    .select("id")
    .where("order_id", "=", orderId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** The discounts of the given orders, in the order they were applied. */
export async function findOrderDiscountsByOrderIds(
  db: Kysely<Database>,
  orderIds: readonly string[],
): Promise<OrderDiscountRow[]> {
  if (orderIds.length === 0) return [];
  return db
    .selectFrom("order_discounts")
    .selectAll()
    .where("order_id", "in", orderIds)
    .orderBy("order_id")
    .orderBy("position")
    .execute();
}
