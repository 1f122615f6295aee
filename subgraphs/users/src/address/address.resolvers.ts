import { requireViewer } from "@nexus/core";
import type { Resolvers, ResolversTypes } from "../__generated__/resolvers-types.ts";
import type { Context } from "../context.ts";
import {
  type AddressResult,
  addAddress,
  removeAddress,
  setDefaultAddress,
  updateAddress,
} from "./address.service.ts";

/** Address-book mutations act on the signed-in user's own book only; ids of others' addresses are NOT_FOUND. */
async function toPayload(
  ctx: Context,
  change: (userId: string) => Promise<AddressResult>,
): Promise<ResolversTypes["AddressPayload"]> {
  const { userId } = requireViewer(ctx.viewer);
  const result = await change(userId);
  const user = await ctx.loaders.userById.load(userId);
  return result.ok
    ? { address: result.address, user, userErrors: [] }
    : { address: null, user, userErrors: result.userErrors };
}

export const addressResolvers: Resolvers = {
  Mutation: {
    addAddress: (_parent, { input }, ctx) => toPayload(ctx, (userId) => addAddress(ctx.db, userId, input)),
    updateAddress: (_parent, { input }, ctx) =>
      toPayload(ctx, (userId) => updateAddress(ctx.db, userId, input)),
    removeAddress: (_parent, { input }, ctx) =>
      toPayload(ctx, (userId) => removeAddress(ctx.db, userId, input.id)),
    setDefaultAddress: (_parent, { input }, ctx) =>
      toPayload(ctx, (userId) => setDefaultAddress(ctx.db, userId, input.id)),
  },
};
