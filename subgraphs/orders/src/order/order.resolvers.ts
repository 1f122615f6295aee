import {
  type Connection,
  cursorPart,
  encodeCursor,
  forbidden,
  graphQLError,
  hasScope,
  isUuid,
  type Page,
  type PageArgs,
  pageArgs,
  readCursor,
  requireViewer,
  toPagedConnection,
  type Viewer,
} from "@nexus/core";
import type { Resolvers, ResolversTypes } from "../__generated__/resolvers-types.ts";
import type { Context } from "../context.ts";
import type { OrderChannel } from "../db/database.ts";
import { ppmToPercent } from "../pricing/pricing.ts";
import { createShipment } from "../shipment/shipment.service.ts";
import type { OrderKey } from "./order.loaders.ts";
import { type OrderModel, type OrderStatusReportModel, toOrderStatusReportModel } from "./order.model.ts";
import {
  cancelOrder,
  deliverOrder,
  isOrderStaff,
  type OrderChangeResult,
  type OrderServiceDeps,
  publishCommittedEvents,
} from "./order.service.ts";
import { listDeskOrders } from "./order-desk.service.ts";

const CHANNELS = {
  storefront: "STOREFRONT",
  partner: "PARTNER",
  import: "IMPORT",
  staff: "STAFF",
} as const satisfies Record<OrderChannel, ResolversTypes["OrderChannel"]>;

/** Who may read orders beyond their own. */
const readsAnyOrder = (viewer: Viewer): boolean => hasScope(viewer, "orders:read:any");

/** Ship and deliver: only staff. The SDL's @requiresScopes says the same; this enforces it here too. */
function requireOrderStaff(ctx: Context): Viewer {
  const viewer = requireViewer(ctx.viewer);
  if (!isOrderStaff(viewer)) throw forbidden("Only staff with orders:write:any may do this.");
  return viewer;
}

/**
 * A customer sees their own orders and staff with `orders:read:any` see all. Anyone else gets
 * null, exactly as for an order that does not exist, so order ids cannot be probed.
 */
function visibleTo(viewer: Viewer, order: OrderModel | null): OrderModel | null {
  if (!order) return null;
  return order.customerId === viewer.userId || readsAnyOrder(viewer) ? order : null;
}

async function loadVisibleOrder(id: string, ctx: Context): Promise<OrderModel | null> {
  const viewer = requireViewer(ctx.viewer);
  return visibleTo(viewer, await ctx.loaders.orderById.load(id));
}

/**
 * An order by id, status only; the SDL's `@requiresScopes` limits it to partners
 * (`orders:status`) and staff. Staff see any order. A partner sees the orders placed through
 * its own client (the token's `client_id`), and any other order is null, the same answer as
 * an unknown id, so a partner cannot learn that another's order exists.
 */
async function orderStatusOf(id: string, ctx: Context): Promise<OrderStatusReportModel | null> {
  const viewer = requireViewer(ctx.viewer);
  if (!readsAnyOrder(viewer) && !hasScope(viewer, "orders:status")) {
    throw forbidden("Only partners and staff may look orders up by id.");
  }
  const order = await ctx.loaders.orderById.load(id);
  if (!order) return null;
  if (readsAnyOrder(viewer)) return toOrderStatusReportModel(order);
  const placedThroughViewer =
    order.channel === "partner" &&
    viewer.clientName !== undefined &&
    order.partnerClient === viewer.clientName;
  return placedThroughViewer ? toOrderStatusReportModel(order) : null;
}

const cursorOf = (order: OrderModel): string => encodeCursor([order.placedAt.toISOString(), order.id]);

/**
 * The order the page's cursor (`after`, or `before` going backward) points at; anything this
 * field did not hand out is BAD_USER_INPUT. Both directions take the same cursors.
 */
function readPosition(page: Page): OrderKey | null {
  const position = readCursor(page.cursor, [cursorPart.isoInstant, cursorPart.uuid], page.cursorField);
  return position && { placedAt: position[0], id: position[1] };
}

async function ordersOf(customerId: string, args: PageArgs, ctx: Context): Promise<Connection<OrderModel>> {
  const viewer = requireViewer(ctx.viewer);
  if (viewer.userId !== customerId && !readsAnyOrder(viewer)) {
    throw forbidden("Only the account holder and admins may see these orders.");
  }
  const page = pageArgs(args);
  const after = readPosition(page);
  // Not a UUID: no such user can have orders here, and PostgreSQL would refuse the id.
  if (!isUuid(customerId)) return toPagedConnection([], page, 0, cursorOf);
  const [orders, totalCount] = await Promise.all([
    ctx.loaders.orderPage.load({ customerId, after, limit: page.size + 1, backward: page.backward }),
    ctx.loaders.orderCountByCustomerId.load(customerId),
  ]);
  return toPagedConnection(orders, page, totalCount, cursorOf);
}

/** The pieces of the context the order services take. */
const orderDeps = (ctx: Context): OrderServiceDeps => ({
  db: ctx.db,
  payments: ctx.payments,
  carts: ctx.carts,
  logger: ctx.logger,
});

/** The changed order is in hand; its events are committed, so publish them now. */
function toPayload(result: OrderChangeResult, ctx: Context): ResolversTypes["OrderPayload"] {
  ctx.loaders.orderById.prime(result.order.id, result.order);
  if (result.userErrors.length === 0) {
    publishCommittedEvents({ relay: ctx.relay, logger: ctx.logger }, result.order.id);
  }
  return result;
}

/**
 * The gateway serves `orderUpdated` and `myOrderUpdates` itself, running each payload as the
 * `order` query; a subscription that reaches this subgraph has no stream to join.
 */
const servedByGateway = (): never => {
  throw graphQLError(
    "BAD_USER_INPUT",
    "Subscriptions are served by the gateway, not by the orders subgraph.",
  );
};

export const orderResolvers: Resolvers = {
  Subscription: {
    orderUpdated: { subscribe: servedByGateway },
    myOrderUpdates: { subscribe: servedByGateway },
  },
  Query: {
    order: (_parent, { id }, ctx) => loadVisibleOrder(id, ctx),
    orderStatus: (_parent, { id }, ctx) => orderStatusOf(id, ctx),
    orders: (_parent, args, ctx) => {
      const viewer = requireViewer(ctx.viewer);
      if (!readsAnyOrder(viewer)) throw forbidden("Only staff with orders:read:any may list all orders.");
      return listDeskOrders({ db: ctx.db, loaders: ctx.loaders }, args);
    },
  },
  Mutation: {
    cancelOrder: async (_parent, { input }, ctx) =>
      toPayload(await cancelOrder(orderDeps(ctx), requireViewer(ctx.viewer), input), ctx),
    // Ships the rest: every unit not shipped yet, as one shipment.
    shipOrder: async (_parent, { input }, ctx) => {
      const { order, userErrors } = await createShipment(orderDeps(ctx), requireOrderStaff(ctx), input);
      return toPayload({ order, userErrors }, ctx);
    },
    deliverOrder: async (_parent, { input }, ctx) =>
      toPayload(await deliverOrder(orderDeps(ctx), requireOrderStaff(ctx), input), ctx),
  },
  Order: {
    __resolveReference: (ref, ctx) => loadVisibleOrder(ref.id, ctx),
    lines: (order, _args, ctx) => ctx.loaders.linesByOrderId.load(order.id),
    statusHistory: (order, _args, ctx) => ctx.loaders.statusHistoryByOrderId.load(order.id),
    payment: (order, _args, ctx) => ctx.loaders.paymentByOrderId.load(order.id),
    total: (order) => ({ amount: order.totalAmount, currencyCode: order.currencyCode }),
    subtotal: (order) => ({ amount: order.subtotalAmount, currencyCode: order.currencyCode }),
    discountTotal: (order) => ({ amount: order.discountAmount, currencyCode: order.currencyCode }),
    discounts: (order, _args, ctx) => ctx.loaders.discountsByOrder.load(order),
    shippingTotal: (order) => ({ amount: order.shippingAmount, currencyCode: order.currencyCode }),
    taxTotal: (order) => ({ amount: order.taxAmount, currencyCode: order.currencyCode }),
    customer: (order) => (order.customerId === null ? null : { id: order.customerId }),
    // Staff only, like `partnerClient` and `guestEmail`: the SDL's @requiresScopes, which the
    // subgraph enforces before any of them resolves.
    channel: (order) => CHANNELS[order.channel],
  },
  OrderStatusReport: {
    statusHistory: (report, _args, ctx) => ctx.loaders.statusHistoryByOrderId.load(report.id),
  },
  OrderLine: {
    product: (line) => ({ id: line.productId }),
    unitPrice: (line) => ({ amount: line.unitAmount, currencyCode: line.currencyCode }),
    lineTotal: (line) => ({ amount: line.unitAmount * line.quantity, currencyCode: line.currencyCode }),
    discount: (line) => ({ amount: line.discountAmount, currencyCode: line.currencyCode }),
    tax: (line) => ({ amount: line.taxAmount, currencyCode: line.currencyCode }),
    taxRate: (line) => ppmToPercent(line.taxRatePpm),
  },
  OrderDiscount: {
    amount: (discount) => ({
      amount: discount.amount + discount.shippingAmount,
      currencyCode: discount.currencyCode,
    }),
    shippingAmount: (discount) => ({ amount: discount.shippingAmount, currencyCode: discount.currencyCode }),
    lines: (discount) =>
      discount.lines.map((line) => ({
        productId: line.productId,
        amount: { amount: line.amount, currencyCode: discount.currencyCode },
      })),
  },
  Payment: {
    amount: (payment) => ({ amount: payment.amount, currencyCode: payment.currencyCode }),
  },
};

/** Fields orders adds to User; resolvers.ts merges them with the other modules'. */
export const userOrderResolvers: NonNullable<Resolvers["User"]> = {
  orders: (user, args, ctx) => ordersOf(user.id, args, ctx),
};
