import { hasScope } from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import {
  createShippingMethod,
  createShippingZone,
  deleteShippingMethod,
  deleteShippingZone,
  listShippingZones,
  updateShippingMethod,
  updateShippingZone,
} from "./shipping.service.ts";

/** Shipping zones and methods are staff's (`store:settings`, enforced by the SDL). */
export const shippingResolvers: Resolvers = {
  Query: {
    shippingZones: (_parent, _args, ctx) => listShippingZones(ctx.db),
  },
  Mutation: {
    createShippingZone: (_parent, { input }, ctx) => createShippingZone(ctx.db, input),
    updateShippingZone: (_parent, { input }, ctx) => updateShippingZone(ctx.db, input),
    deleteShippingZone: (_parent, { input }, ctx) => deleteShippingZone(ctx.db, input),
    createShippingMethod: (_parent, { input }, ctx) => createShippingMethod(ctx.db, input),
    updateShippingMethod: (_parent, { input }, ctx) => updateShippingMethod(ctx.db, input),
    deleteShippingMethod: (_parent, { input }, ctx) => deleteShippingMethod(ctx.db, input),
  },
  ShippingZone: {
    // As `shippingZones`: staff with `store:settings` only; anyone else gets null.
    __resolveReference: async (ref, ctx) =>
      hasScope(ctx.viewer, "store:settings") ? ctx.loaders.shippingZoneById.load(ref.id) : null,
    methods: (zone, _args, ctx) => ctx.loaders.shippingMethodsByZoneId.load(zone.id),
  },
  ShippingMethod: {
    __resolveReference: async (ref, ctx) =>
      hasScope(ctx.viewer, "store:settings") ? ctx.loaders.shippingMethodById.load(ref.id) : null,
    amount: (method, _args, ctx) =>
      method.amount === null ? null : { amount: method.amount, currencyCode: ctx.storeCurrency },
    bands: (method, _args, ctx) =>
      method.bands.map((band) => ({
        minSubtotal: { amount: band.minSubtotal, currencyCode: ctx.storeCurrency },
        amount: { amount: band.amount, currencyCode: ctx.storeCurrency },
      })),
    freeAbove: (method, _args, ctx) =>
      method.freeAbove === null ? null : { amount: method.freeAbove, currencyCode: ctx.storeCurrency },
  },
};
