import {
  badUserInput,
  type Connection,
  decodeCursor,
  encodeCursor,
  forbidden,
  isUuid,
  pageSize,
  requireViewer,
  toConnection,
  type Viewer,
} from "@nexus/core";
import type { Resolvers, ResolversTypes } from "../__generated__/resolvers-types.ts";
import type { Context } from "../context.ts";
import type { OrderModel } from "./order.model.ts";
import type { OrderKey } from "./order.repository.ts";
import { type PlaceOrderResult, placeOrder } from "./order.service.ts";

/**
 * A customer sees their own orders and admins see all. Anyone else gets null, exactly as
 * for an order that does not exist, so order ids cannot be probed.
 */
function visibleTo(viewer: Viewer, order: OrderModel | null): OrderModel | null {
  if (!order) return null;
  return order.customerId === viewer.userId || viewer.role === "ADMIN" ? order : null;
}

async function loadVisibleOrder(id: string, ctx: Context): Promise<OrderModel | null> {
  const viewer = requireViewer(ctx.viewer);
  return visibleTo(viewer, await ctx.loaders.orderById.load(id));
}

const cursorOf = (order: OrderModel): string => encodeCursor([order.placedAt.toISOString(), order.id]);

/** The order an `after` cursor points at; anything this field did not hand out is BAD_USER_INPUT. */
function readAfter(after: string | null | undefined): OrderKey | null {
  const values = decodeCursor(after, 2);
  if (values === null) return null;
  const [placedAt, id] = values;
  const date = typeof placedAt === "string" ? new Date(placedAt) : null;
  if (!date || Number.isNaN(date.getTime()) || typeof id !== "string" || !isUuid(id)) {
    throw badUserInput("after is not a cursor returned by this field.", "after");
  }
  return { placedAt: date, id };
}

async function ordersOf(
  customerId: string,
  args: { first?: number | null; after?: string | null },
  ctx: Context,
): Promise<Connection<OrderModel>> {
  const viewer = requireViewer(ctx.viewer);
  if (viewer.userId !== customerId && viewer.role !== "ADMIN") {
    throw forbidden("Only the account holder and admins may see these orders.");
  }
  const first = pageSize(args.first);
  const after = readAfter(args.after);
  // Not a UUID: no such user can have orders here, and PostgreSQL would refuse the id.
  if (!isUuid(customerId)) return toConnection([], first, 0, cursorOf, after !== null);
  const [orders, totalCount] = await Promise.all([
    ctx.loaders.orderPage.load({ customerId, after, limit: first + 1 }),
    ctx.loaders.orderCountByCustomerId.load(customerId),
  ]);
  return toConnection(orders, first, totalCount, cursorOf, after !== null);
}

function toPayload(result: PlaceOrderResult, ctx: Context): ResolversTypes["PlaceOrderPayload"] {
  if (!result.ok) return { order: null, userErrors: result.userErrors };
  // The payload usually asks for the new order's lines: they are in hand, so no query for them.
  ctx.loaders.orderById.prime(result.order.id, result.order);
  ctx.loaders.linesByOrderId.prime(result.order.id, result.lines);
  return { order: result.order, userErrors: [] };
}

export const orderResolvers: Resolvers = {
  Query: {
    order: (_parent, { id }, ctx) => loadVisibleOrder(id, ctx),
  },
  Mutation: {
    placeOrder: async (_parent, { input }, ctx) => {
      const viewer = requireViewer(ctx.viewer);
      return toPayload(await placeOrder(ctx, viewer.userId, input, { requestId: ctx.requestId }), ctx);
    },
  },
  Order: {
    __resolveReference: (ref, ctx) => loadVisibleOrder(ref.id, ctx),
    lines: (order, _args, ctx) => ctx.loaders.linesByOrderId.load(order.id),
    total: (order) => ({ amount: order.totalAmount, currencyCode: order.currencyCode }),
    customer: (order) => ({ id: order.customerId }),
  },
  OrderLine: {
    product: (line) => ({ id: line.productId }),
    unitPrice: (line) => ({ amount: line.unitAmount, currencyCode: line.currencyCode }),
    lineTotal: (line) => ({ amount: line.unitAmount * line.quantity, currencyCode: line.currencyCode }),
  },
  User: {
    __resolveReference: (ref) => ({ id: ref.id }),
    orders: (user, args, ctx) => ordersOf(user.id, args, ctx),
  },
};
