import {
  type Connection,
  cursorPart,
  encodeCursor,
  forbidden,
  hasScope,
  isUuid,
  pageSize,
  readCursor,
  requireViewer,
  toConnection,
} from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import type { Context } from "../context.ts";
import type { WishlistKey } from "./wishlist.loaders.ts";
import type { WishlistItemModel } from "./wishlist.model.ts";
import { addToWishlist, removeFromWishlist, type WishlistDeps } from "./wishlist.service.ts";

const cursorOf = (item: WishlistItemModel): string =>
  encodeCursor([item.addedAt.toISOString(), item.productId]);

/** The item an `after` cursor points at; anything this field did not hand out is BAD_USER_INPUT. */
function readAfter(after: string | null | undefined): WishlistKey | null {
  const position = readCursor(after, [cursorPart.isoInstant, cursorPart.objectId]);
  return position && { addedAt: position[0], productId: position[1] };
}

/** A wishlist is its owner's; staff who read any order (support) may read it too, as with the cart. */
async function wishlistOf(
  customerId: string,
  args: { first?: number | null; after?: string | null },
  ctx: Context,
): Promise<Connection<WishlistItemModel>> {
  const viewer = requireViewer(ctx.viewer);
  if (viewer.userId !== customerId && !hasScope(viewer, "orders:read:any")) {
    throw forbidden("Only the account holder may see this wishlist.");
  }
  const first = pageSize(args.first);
  const after = readAfter(args.after);
  // Not a UUID: no such user has a wishlist here, and PostgreSQL would refuse the id.
  if (!isUuid(customerId)) return toConnection([], first, 0, cursorOf, after !== null);
  const [items, totalCount] = await Promise.all([
    ctx.loaders.wishlistPage.load({ customerId: customerId.toLowerCase(), after, limit: first + 1 }),
    ctx.loaders.wishlistCountByCustomerId.load(customerId.toLowerCase()),
  ]);
  return toConnection(items, first, totalCount, cursorOf, after !== null);
}

const wishlistDeps = (ctx: Context): WishlistDeps => ({
  db: ctx.db,
  loaders: ctx.loaders,
  logger: ctx.logger,
  requestId: ctx.requestId,
});

export const wishlistResolvers: Resolvers = {
  Mutation: {
    addToWishlist: async (_parent, { input }, ctx) => {
      const result = await addToWishlist(wishlistDeps(ctx), requireViewer(ctx.viewer).userId, input);
      return result.ok
        ? { item: result.item, userErrors: [] }
        : { item: null, userErrors: result.userErrors };
    },
    removeFromWishlist: (_parent, { input }, ctx) =>
      removeFromWishlist(ctx.db, requireViewer(ctx.viewer).userId, input),
  },
  WishlistItem: {
    product: (item) => ({ id: item.productId }),
  },
};

/** Fields orders adds to User; resolvers.ts merges them with the other modules'. */
export const userWishlistResolvers: NonNullable<Resolvers["User"]> = {
  wishlist: (user, args, ctx) => wishlistOf(user.id, args, ctx),
};
