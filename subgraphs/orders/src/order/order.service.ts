import { isObjectIdHex, type Logger, type UserError, userError } from "@nexus/core";
import { appendToOutbox, type OutboxRelay } from "@nexus/events";
import { GraphQLError } from "graphql";
import type { Kysely } from "kysely";
import {
  type CatalogClient,
  type CatalogProduct,
  CatalogUnavailableError,
} from "../catalog/catalog.client.ts";
import type { Database } from "../db/database.ts";
import { type OrderLineModel, type OrderModel, toOrderLineModel, toOrderModel } from "./order.model.ts";
import { insertOrder } from "./order.repository.ts";

export const MAX_LINES = 50;
export const MAX_QUANTITY = 999;
/** Amounts are PostgreSQL `integer` and GraphQL `Int`: both stop at 2^31 - 1. */
const MAX_AMOUNT = 2_147_483_647;

export interface PlaceOrderDeps {
  db: Kysely<Database>;
  catalog: CatalogClient;
  relay: Pick<OutboxRelay, "flush">;
  logger: Logger;
}

export interface PlaceOrderInput {
  lines: readonly { productId: string; quantity: number }[];
}

export type PlaceOrderResult =
  | { ok: true; order: OrderModel; lines: OrderLineModel[] }
  | { ok: false; userErrors: UserError[] };

const linePath = (index: number, field: "productId" | "quantity") => ["input", "lines", String(index), field];

/** What the client asked for on one line, once its product id is in the catalog's canonical form. */
interface RequestedLine {
  index: number;
  productId: string;
  quantity: number;
  /** Why the line's product id cannot be priced without asking the catalog, if it cannot. */
  productProblem: "MALFORMED" | "DUPLICATE" | null;
}

/**
 * Places an order for `customerId`. Every problem with the input is reported at once, in line order;
 * names and prices come from the catalog alone, and nothing is written unless the order is valid.
 * The order, its lines and its OrderPlaced event commit together or not at all.
 */
export async function placeOrder(
  deps: PlaceOrderDeps,
  customerId: string,
  input: PlaceOrderInput,
  request: { requestId?: string | undefined } = {},
): Promise<PlaceOrderResult> {
  if (input.lines.length === 0) {
    return fail([userError("EMPTY_ORDER", "An order needs at least one line.", ["input", "lines"])]);
  }
  // Checked before anything else so an oversized request costs neither per-line work nor a catalog call.
  if (input.lines.length > MAX_LINES) {
    return fail([
      userError("TOO_MANY_LINES", `An order may have at most ${MAX_LINES} lines.`, ["input", "lines"]),
    ]);
  }

  const requested = readLines(input);
  const lookupIds = requested.filter((line) => line.productProblem === null).map((line) => line.productId);
  const products = new Map<string, CatalogProduct>();
  try {
    const found = await deps.catalog.findProductsByIds(lookupIds, request);
    found.forEach((product, i) => {
      const id = lookupIds[i];
      if (product && id !== undefined) products.set(id, product);
    });
  } catch (error) {
    if (!(error instanceof CatalogUnavailableError)) throw error;
    deps.logger.warn("catalog unavailable; order refused", {
      requestId: request.requestId,
      error,
      cause: error.cause,
    });
    throw new GraphQLError("The catalog is unavailable; nothing was ordered.", {
      extensions: { code: "INTERNAL_SERVER_ERROR" },
      originalError: error,
    });
  }

  const userErrors: UserError[] = [];
  const lines: { productId: string; productName: string; unitPrice: number; quantity: number }[] = [];
  // The first priced line sets the order's currency; an order is paid in one.
  let currencyCode: string | undefined;
  for (const line of requested) {
    if (!Number.isInteger(line.quantity) || line.quantity < 1 || line.quantity > MAX_QUANTITY) {
      userErrors.push(
        userError(
          "INVALID_QUANTITY",
          `Quantities must be between 1 and ${MAX_QUANTITY}.`,
          linePath(line.index, "quantity"),
        ),
      );
    }
    if (line.productProblem === "DUPLICATE") {
      userErrors.push(
        userError(
          "DUPLICATE_PRODUCT",
          "This product is already on another line; change that line's quantity instead.",
          linePath(line.index, "productId"),
        ),
      );
      continue;
    }
    const product = line.productProblem === null ? products.get(line.productId) : undefined;
    if (!product) {
      userErrors.push(
        userError("PRODUCT_NOT_FOUND", "There is no such product.", linePath(line.index, "productId")),
      );
      continue;
    }
    currencyCode ??= product.price.currencyCode;
    if (product.price.currencyCode !== currencyCode) {
      userErrors.push(
        userError(
          "CURRENCY_MISMATCH",
          `This product is priced in ${product.price.currencyCode}, the rest of the order in ${currencyCode}.`,
          linePath(line.index, "productId"),
        ),
      );
      continue;
    }
    lines.push({
      productId: product.id,
      productName: product.name,
      unitPrice: product.price.amount,
      quantity: line.quantity,
    });
  }
  if (userErrors.length > 0 || currencyCode === undefined) return fail(userErrors);

  const totalAmount = lines.reduce((sum, line) => sum + line.unitPrice * line.quantity, 0);
  if (totalAmount > MAX_AMOUNT) {
    return fail([
      userError("TOTAL_TOO_LARGE", "The order's total is more than one order can hold; split it.", [
        "input",
        "lines",
      ]),
    ]);
  }

  const placed = await deps.db.transaction().execute(async (trx) => {
    const { order, lines: rows } = await insertOrder(trx, { customerId, currencyCode, totalAmount, lines });
    await appendToOutbox(trx, "OrderPlaced", order.id, {
      orderId: order.id,
      customerId,
      currencyCode: order.currency_code,
      lines: rows.map((row) => ({
        productId: row.product_id,
        quantity: row.quantity,
        unitPrice: row.unit_price,
      })),
    });
    return { order: toOrderModel(order), lines: rows.map(toOrderLineModel) };
  });

  // Not awaited: with Redis down the publish would wait for it to return, and the order is already
  // safe in the outbox, where the relay's poller will find it.
  deps.relay.flush().catch((error: unknown) => {
    deps.logger.warn("outbox flush after placeOrder failed; the poller will retry", {
      orderId: placed.order.id,
      error,
    });
  });
  return { ok: true, ...placed };
}

const fail = (userErrors: UserError[]): PlaceOrderResult => ({ ok: false, userErrors });

/**
 * Catalog ids are ObjectIds, which the catalog matches in any case and returns in lower case,
 * so ids are compared (and duplicates found) in lower case too.
 */
function readLines(input: PlaceOrderInput): RequestedLine[] {
  const seen = new Set<string>();
  return input.lines.map((line, index) => {
    const productId = line.productId.toLowerCase();
    let productProblem: RequestedLine["productProblem"] = null;
    if (!isObjectIdHex(productId)) productProblem = "MALFORMED";
    else if (seen.has(productId)) productProblem = "DUPLICATE";
    else seen.add(productId);
    return { index, productId, quantity: line.quantity, productProblem };
  });
}
