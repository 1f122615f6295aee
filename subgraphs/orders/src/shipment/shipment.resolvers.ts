import { requireViewer } from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { publishCommittedEvents } from "../order/order.service.ts";
import { createShipment } from "./shipment.service.ts";

/** Shipping is staff's; whoever sees an order (its customer, staff) sees its shipments. */
export const shipmentResolvers: Resolvers = {
  Mutation: {
    createShipment: async (_parent, { input }, ctx) => {
      const result = await createShipment(
        { db: ctx.db, payments: ctx.payments, carts: ctx.carts, logger: ctx.logger },
        requireViewer(ctx.viewer),
        input,
      );
      ctx.loaders.orderById.prime(result.order.id, result.order);
      if (result.userErrors.length === 0) {
        publishCommittedEvents({ relay: ctx.relay, logger: ctx.logger }, result.order.id);
      }
      return result;
    },
  },
  Order: {
    shipments: (order, _args, ctx) => ctx.loaders.shipmentsByOrderId.load(order.id),
  },
  Shipment: {
    lines: (shipment, _args, ctx) => ctx.loaders.shipmentLinesByShipmentId.load(shipment.id),
  },
  ShipmentLine: {
    product: (line) => ({ id: line.productId }),
  },
};
