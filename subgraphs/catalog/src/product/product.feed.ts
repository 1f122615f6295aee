import { badUserInput, cursorPart, decodeCursor, encodeCursor, isObjectIdHex, pageSize } from "@nexus/core";
import type { QueryProductFeedArgs } from "../__generated__/resolvers-types.ts";
import type { CatalogDb } from "../db/collections.ts";
import type { ProductLoaders } from "./product.loaders.ts";
import type { ProductFeedConnectionModel } from "./product.model.ts";
import { toProductModel } from "./product.model.ts";
import { countProductFeed, type FeedKey, findProductFeedPage } from "./product.repository.ts";

const invalidCursor = () => badUserInput("after is not a cursor returned by productFeed.", "after");

/** Cursor = ["feed", updatedAt in ms, id]; the tag keeps `products` cursors out. */
const cursorOf = (key: FeedKey): string => encodeCursor(["feed", key.updatedAt.getTime(), key.id]);

function readAfter(after: string | null | undefined): FeedKey | undefined {
  const values = decodeCursor(after, 3);
  if (values === null) return undefined;
  const [tag, time, id] = values;
  const updatedAt = cursorPart.epochMillis(time);
  if (tag !== "feed" || updatedAt === undefined) throw invalidCursor();
  if (typeof id !== "string" || !isObjectIdHex(id)) throw invalidCursor();
  return { updatedAt, id: id.toLowerCase() };
}

/** What the feed needs: the store, and `productById` to prime with every product of the page. */
export interface FeedDeps {
  db: CatalogDb;
  loaders: Pick<ProductLoaders, "productById">;
}

/** `productFeed`: one find for the page, and a count only when `totalCount` is selected. */
export async function listProductFeed(
  deps: FeedDeps,
  args: QueryProductFeedArgs,
): Promise<ProductFeedConnectionModel> {
  const first = pageSize(args.first);
  const after = readAfter(args.after);
  const updatedSince = args.updatedSince ?? undefined;
  const docs = await findProductFeedPage(deps.db, { updatedSince, after, limit: first + 1 });
  const edges = docs.slice(0, first).map((doc) => {
    const node = toProductModel(doc);
    deps.loaders.productById.prime(node.id, node);
    return { cursor: cursorOf(node), node };
  });
  return {
    edges,
    pageInfo: {
      hasNextPage: docs.length > first,
      hasPreviousPage: after !== undefined,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: () => countProductFeed(deps.db, updatedSince),
  };
}
