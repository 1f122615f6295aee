import { randomUUID } from "node:crypto";
import { isCountryCode, isObjectIdHex, isUuid, type Logger, userError } from "@nexus/core";
import { appendManyToOutbox, type OutboxEntry, type OutboxRelay } from "@nexus/events";
import type { Kysely } from "kysely";
import type { Database, OrderStatus } from "../db/database.ts";
import type { UserError, UserErrorCode } from "../user-error.ts";
import {
  findLatestOrdersWithProduct,
  type ImportedLineRow,
  insertImportedLines,
  insertImportedOrders,
  insertImportedRefunds,
  insertRefundLines,
  insertStatusChanges,
} from "./import.repository.ts";

/** Per call: a batch stays one short transaction, and the gateway's body limit holds far fewer. */
export const MAX_IMPORT_ORDERS = 500;
export const MAX_IMPORT_RETURNS = 500;
/** Per invoice; real invoices stop well before. */
export const MAX_IMPORT_LINES = 1000;
const MAX_EXTERNAL_ID = 100;
const MAX_PRODUCT_NAME = 200;
const MAX_REASON = 500;
/** Amounts are PostgreSQL `integer` and GraphQL `Int`: both stop at 2^31 - 1. */
const MAX_AMOUNT = 2_147_483_647;
const CURRENCY = /^[A-Z]{3}$/;
const DEFAULT_RETURN_REASON = "imported return";
/** An imported sale went through every step of the happy path when it was placed. */
const HISTORY: readonly OrderStatus[] = ["PENDING", "CONFIRMED", "SHIPPED", "DELIVERED"];

export interface ImportDeps {
  db: Kysely<Database>;
  relay: Pick<OutboxRelay, "flush">;
  logger: Logger;
}

export interface ImportOrderLineInput {
  productId: string;
  productName: string;
  categoryId?: string | null | undefined;
  quantity: number;
  unitPrice: number;
}

export interface ImportOrderInput {
  externalId: string;
  customerId?: string | null | undefined;
  placedAt: Date;
  currencyCode: string;
  countryCode?: string | null | undefined;
  lines: readonly ImportOrderLineInput[];
}

export interface ImportReturnLineInput {
  productId: string;
  quantity: number;
  unitPrice: number;
}

export interface ImportReturnInput {
  externalId: string;
  customerId?: string | null | undefined;
  returnedAt: Date;
  currencyCode: string;
  reason?: string | null | undefined;
  lines: readonly ImportReturnLineInput[];
}

export interface ImportOrdersInput {
  orders: readonly ImportOrderInput[];
  returns: readonly ImportReturnInput[];
}

export interface ImportOrdersResult {
  ordersCreated: number;
  ordersExisting: number;
  returnsCreated: number;
  returnsExisting: number;
  userErrors: UserError[];
}

interface ValidLine {
  productId: string;
  productName: string;
  categoryId: string | null;
  quantity: number;
  unitPrice: number;
}

interface ValidOrder {
  externalId: string;
  customerId: string | null;
  placedAt: Date;
  currencyCode: string;
  countryCode: string | null;
  totalAmount: number;
  lines: ValidLine[];
}

interface ValidReturn {
  externalId: string;
  customerId: string | null;
  returnedAt: Date;
  currencyCode: string;
  reason: string;
  amount: number;
  lines: { productId: string; quantity: number; unitPrice: number }[];
}

/**
 * Reads every field and reports every problem at once, each at its path. Values come back
 * normalized: ids in lower case, codes in upper case, text trimmed.
 */
class Validator {
  readonly errors: UserError[] = [];
  private readonly now: Date;
  constructor(now: Date) {
    this.now = now;
  }

  fail(code: UserErrorCode, message: string, path: (string | number)[]) {
    this.errors.push(userError(code, message, ["input", ...path.map(String)]));
  }

  externalIds(items: readonly { externalId: string }[], list: string): string[] {
    const seen = new Map<string, number>();
    return items.map((item, i) => {
      const id = item.externalId.trim();
      if (id.length === 0 || id.length > MAX_EXTERNAL_ID) {
        this.fail("INVALID_EXTERNAL_ID", `externalId must be 1 to ${MAX_EXTERNAL_ID} characters.`, [
          list,
          i,
          "externalId",
        ]);
      } else if (seen.has(id)) {
        this.fail("DUPLICATE_EXTERNAL_ID", `${id} appears more than once in ${list}.`, [
          list,
          i,
          "externalId",
        ]);
      } else seen.set(id, i);
      return id;
    });
  }

  customerId(value: string | null | undefined, path: (string | number)[]): string | null {
    if (value === null || value === undefined) return null;
    if (!isUuid(value)) {
      this.fail("INVALID_CUSTOMER_ID", "customerId must be a user id (a UUID) or null for a guest.", path);
      return null;
    }
    return value.toLowerCase();
  }

  time(value: Date, path: (string | number)[]): Date {
    if (Number.isNaN(value.getTime()) || value.getTime() > this.now.getTime()) {
      this.fail("INVALID_DATE", "The time must be a real date, not in the future.", path);
    }
    return value;
  }

  currency(value: string, path: (string | number)[]): string {
    const code = value.trim().toUpperCase();
    if (!CURRENCY.test(code)) {
      this.fail("INVALID_CURRENCY", "currencyCode must be an ISO 4217 code such as GBP or USD.", path);
    }
    return code;
  }

  country(value: string | null | undefined, path: (string | number)[]): string | null {
    if (value === null || value === undefined) return null;
    const code = value.trim().toUpperCase();
    if (!isCountryCode(code)) {
      this.fail("INVALID_COUNTRY", "countryCode must be an ISO 3166-1 alpha-2 code such as GB or DE.", path);
    }
    return code;
  }

  lineCount(lines: readonly unknown[], path: (string | number)[]) {
    if (lines.length === 0) this.fail("NO_LINES", "An invoice needs at least one line.", [...path, "lines"]);
    if (lines.length > MAX_IMPORT_LINES) {
      this.fail("TOO_MANY_LINES", `An invoice holds at most ${MAX_IMPORT_LINES} lines.`, [...path, "lines"]);
    }
  }

  productId(value: string, path: (string | number)[]): string {
    const id = value.trim().toLowerCase();
    if (!isObjectIdHex(id)) this.fail("INVALID_PRODUCT_ID", "productId must be a catalog product id.", path);
    return id;
  }

  amounts(line: { quantity: number; unitPrice: number }, path: (string | number)[]) {
    if (!Number.isSafeInteger(line.quantity) || line.quantity <= 0) {
      this.fail("INVALID_QUANTITY", "quantity must be a whole number of at least 1.", [...path, "quantity"]);
    }
    if (!Number.isSafeInteger(line.unitPrice) || line.unitPrice < 0 || line.unitPrice > MAX_AMOUNT) {
      this.fail("INVALID_PRICE", "unitPrice must be a whole number of minor units, 0 or more.", [
        ...path,
        "unitPrice",
      ]);
    }
  }

  total(lines: readonly { quantity: number; unitPrice: number }[], path: (string | number)[]): number {
    const total = lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0);
    if (total > MAX_AMOUNT) {
      this.fail("TOTAL_TOO_LARGE", "The invoice's total is more than one order can hold.", [
        ...path,
        "lines",
      ]);
    }
    return total;
  }
}

function validate(
  input: ImportOrdersInput,
  now: Date,
): { ok: true; orders: ValidOrder[]; returns: ValidReturn[] } | { ok: false; userErrors: UserError[] } {
  const v = new Validator(now);
  if (input.orders.length > MAX_IMPORT_ORDERS) {
    v.fail("TOO_MANY_ORDERS", `At most ${MAX_IMPORT_ORDERS} orders per call.`, ["orders"]);
  }
  if (input.returns.length > MAX_IMPORT_RETURNS) {
    v.fail("TOO_MANY_RETURNS", `At most ${MAX_IMPORT_RETURNS} returns per call.`, ["returns"]);
  }
  // Nothing else is read when the call is too large: its errors alone could be thousands.
  if (v.errors.length > 0) return { ok: false, userErrors: v.errors };

  const orderIds = v.externalIds(input.orders, "orders");
  const orders = input.orders.map((order, i): ValidOrder => {
    const at = ["orders", i];
    v.lineCount(order.lines, at);
    const lines = order.lines.map((line, j): ValidLine => {
      const path = [...at, "lines", j];
      const productName = line.productName.trim();
      if (productName.length === 0 || productName.length > MAX_PRODUCT_NAME) {
        v.fail("INVALID_PRODUCT_NAME", `productName must be 1 to ${MAX_PRODUCT_NAME} characters.`, [
          ...path,
          "productName",
        ]);
      }
      let categoryId: string | null = null;
      if (line.categoryId !== null && line.categoryId !== undefined) {
        categoryId = line.categoryId.trim().toLowerCase();
        if (!isObjectIdHex(categoryId)) {
          v.fail("INVALID_CATEGORY_ID", "categoryId must be a catalog category id or null.", [
            ...path,
            "categoryId",
          ]);
        }
      }
      v.amounts(line, path);
      return {
        productId: v.productId(line.productId, [...path, "productId"]),
        productName,
        categoryId,
        quantity: line.quantity,
        unitPrice: line.unitPrice,
      };
    });
    return {
      externalId: orderIds[i] ?? "",
      customerId: v.customerId(order.customerId, [...at, "customerId"]),
      placedAt: v.time(order.placedAt, [...at, "placedAt"]),
      currencyCode: v.currency(order.currencyCode, [...at, "currencyCode"]),
      countryCode: v.country(order.countryCode, [...at, "countryCode"]),
      totalAmount: v.total(lines, at),
      lines,
    };
  });

  const returnIds = v.externalIds(input.returns, "returns");
  const returns = input.returns.map((ret, i): ValidReturn => {
    const at = ["returns", i];
    v.lineCount(ret.lines, at);
    const lines = ret.lines.map((line, j) => {
      const path = [...at, "lines", j];
      v.amounts(line, path);
      return {
        productId: v.productId(line.productId, [...path, "productId"]),
        quantity: line.quantity,
        unitPrice: line.unitPrice,
      };
    });
    const reason = ret.reason?.trim() || DEFAULT_RETURN_REASON;
    if (reason.length > MAX_REASON) {
      v.fail("INVALID_REASON", `reason must be at most ${MAX_REASON} characters.`, [...at, "reason"]);
    }
    return {
      externalId: returnIds[i] ?? "",
      customerId: v.customerId(ret.customerId, [...at, "customerId"]),
      returnedAt: v.time(ret.returnedAt, [...at, "returnedAt"]),
      currencyCode: v.currency(ret.currencyCode, [...at, "currencyCode"]),
      reason,
      amount: v.total(lines, at),
      lines,
    };
  });
  return v.errors.length > 0 ? { ok: false, userErrors: v.errors } : { ok: true, orders, returns };
}

/**
 * Imports past sales as DELIVERED orders and returns as refunds, in one transaction with a
 * few bulk statements, idempotently by external id: what was imported before is counted and
 * left alone, and only what this call created is announced. A new order's events are
 * OrderPlaced (`historical`, so inventory reserves nothing and the saga never sees it),
 * OrderConfirmed and, when it has a customer, OrderDelivered; a refund's is OrderRefunded
 * (`historical`). Each is dated when the sale or the return happened.
 */
export async function importOrders(
  deps: ImportDeps,
  input: ImportOrdersInput,
  now: Date = new Date(),
): Promise<ImportOrdersResult> {
  const valid = validate(input, now);
  if (!valid.ok) {
    return {
      ordersCreated: 0,
      ordersExisting: 0,
      returnsCreated: 0,
      returnsExisting: 0,
      userErrors: valid.userErrors,
    };
  }
  const { orders, returns } = valid;

  const result = await deps.db.transaction().execute(async (trx) => {
    const events: OutboxEntry[] = [];

    const created = await insertImportedOrders(
      trx,
      orders.map((order) => ({
        id: randomUUID(),
        externalRef: order.externalId,
        customerId: order.customerId,
        currencyCode: order.currencyCode,
        totalAmount: order.totalAmount,
        placedAt: order.placedAt,
      })),
    );
    const orderIdByRef = new Map(created.map((row) => [row.external_ref, row.id]));
    const lines: ImportedLineRow[] = [];
    const history: { orderId: string; status: OrderStatus; at: Date }[] = [];
    for (const order of orders) {
      const orderId = orderIdByRef.get(order.externalId);
      if (orderId === undefined) continue;
      order.lines.forEach((line, position) => {
        lines.push({ orderId, position, ...line });
      });
      for (const status of HISTORY) history.push({ orderId, status, at: order.placedAt });
      const occurredAt = order.placedAt;
      events.push({
        type: "OrderPlaced",
        aggregateId: orderId,
        occurredAt,
        payload: {
          orderId,
          customerId: order.customerId,
          currencyCode: order.currencyCode,
          countryCode: order.countryCode,
          historical: true,
          lines: order.lines.map((line) => ({
            productId: line.productId,
            quantity: line.quantity,
            unitPrice: line.unitPrice,
            productName: line.productName,
            categoryId: line.categoryId,
          })),
        },
      });
      events.push({ type: "OrderConfirmed", aggregateId: orderId, occurredAt, payload: { orderId } });
      // OrderDelivered names the customer whose reviews become verified purchases; a guest has none.
      if (order.customerId !== null) {
        events.push({
          type: "OrderDelivered",
          aggregateId: orderId,
          occurredAt,
          payload: {
            orderId,
            customerId: order.customerId,
            productIds: [...new Set(order.lines.map((line) => line.productId))],
          },
        });
      }
    }
    await insertImportedLines(trx, lines);
    await insertStatusChanges(trx, history);

    // After this call's orders are in, so a return can be linked to a sale of the same call.
    const linkable = returns.flatMap((ret, i) => {
      const productId = ret.lines[0]?.productId;
      return ret.customerId !== null && productId !== undefined
        ? [{ index: i, customerId: ret.customerId, productId, at: ret.returnedAt }]
        : [];
    });
    const links = await findLatestOrdersWithProduct(trx, linkable);
    const linkedOrder = new Map(linkable.map((request, k) => [request.index, links[k] ?? null]));
    const refunds = returns.map((ret, i) => ({
      id: randomUUID(),
      externalRef: ret.externalId,
      orderId: linkedOrder.get(i) ?? null,
      customerId: ret.customerId,
      currencyCode: ret.currencyCode,
      amount: ret.amount,
      reason: ret.reason,
      refundedAt: ret.returnedAt,
    }));
    const createdRefunds = new Set((await insertImportedRefunds(trx, refunds)).map((row) => row.id));
    const refundLines: {
      refundId: string;
      position: number;
      productId: string;
      quantity: number;
      unitPrice: number;
    }[] = [];
    returns.forEach((ret, i) => {
      const refund = refunds[i];
      if (!refund || !createdRefunds.has(refund.id)) return;
      ret.lines.forEach((line, position) => {
        refundLines.push({ refundId: refund.id, position, ...line });
      });
      events.push({
        type: "OrderRefunded",
        aggregateId: refund.id,
        occurredAt: ret.returnedAt,
        payload: {
          refundId: refund.id,
          orderId: refund.orderId,
          customerId: ret.customerId,
          currencyCode: ret.currencyCode,
          amount: ret.amount,
          lines: ret.lines,
          reason: ret.reason,
          historical: true,
        },
      });
    });
    await insertRefundLines(trx, refundLines);
    await appendManyToOutbox(trx, events);
    return { ordersCreated: created.length, returnsCreated: createdRefunds.size, events: events.length };
  });

  if (result.events > 0) {
    // Not awaited: the events are committed, and the relay's poller publishes whatever this misses.
    deps.relay.flush().catch((error: unknown) => {
      deps.logger.warn("outbox flush after an import failed; the poller will retry", { error });
    });
  }
  return {
    ordersCreated: result.ordersCreated,
    ordersExisting: orders.length - result.ordersCreated,
    returnsCreated: result.returnsCreated,
    returnsExisting: returns.length - result.returnsCreated,
    userErrors: [],
  };
}
