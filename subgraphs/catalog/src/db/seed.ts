import type { Logger } from "@nexus/core";
import { ObjectId } from "mongodb";
import { insertMissingCategories } from "../category/category.repository.ts";
import {
  countProducts,
  insertIgnoringDuplicates,
  insertMissingProducts,
} from "../product/product.repository.ts";
import type { CatalogDb } from "./collections.ts";
import { type DemoCategory, demoCategories, demoProducts, demoReviews } from "./demo.ts";

function ancestorsOf(category: DemoCategory, byId: ReadonlyMap<string, DemoCategory>): string[] {
  const path: string[] = [];
  for (let parent = category.parentId; parent !== null; parent = byId.get(parent)?.parentId ?? null) {
    path.unshift(parent);
  }
  return path;
}

/**
 * Loads the demo catalog (categories, products, reviews and the purchases behind verified
 * reviews) into an empty `products` collection, with the demo data set's fixed ids so other
 * subgraphs can seed stock and accounts for the same products and reviewers. A catalog that
 * holds any product is left alone. Documents keep their fixed ids and duplicates are skipped,
 * so two replicas seeding at once both succeed. Prices are in `currencyCode`, the store's, and
 * the demo's amounts are taken as minor units of it as they stand: 2999 is 29.99 in a USD store
 * and 2999 yen in a JPY one, a plausible price in both, where converting would need a rate.
 * Returns how many documents it inserted.
 */
export async function seedDemoData(
  db: CatalogDb,
  logger: Logger,
  currencyCode: string,
): Promise<{ categories: number; products: number; reviews: number }> {
  if ((await countProducts(db)) > 0) return { categories: 0, products: 0, reviews: 0 };
  const categoryList = demoCategories();
  const byId = new Map(categoryList.map((c) => [c.id, c]));
  const categories = await insertMissingCategories(
    db,
    categoryList.map((category) => ({ ...category, ancestorIds: ancestorsOf(category, byId) })),
  );

  const reviews = demoReviews();
  // Ratings are derived from the approved reviews, exactly as `refreshRating` would count them.
  const ratings = new Map<string, { count: number; sum: number }>();
  for (const review of reviews) {
    if (review.status !== "APPROVED") continue;
    const rating = ratings.get(review.productId) ?? { count: 0, sum: 0 };
    rating.count++;
    rating.sum += review.rating;
    ratings.set(review.productId, rating);
  }
  const products = await insertMissingProducts(
    db,
    demoProducts().map(({ price, compareAtPrice, createdAt, ...product }) => {
      const rating = ratings.get(product.id) ?? { count: 0, sum: 0 };
      return {
        ...product,
        price: { amount: price, currencyCode },
        compareAtPrice: compareAtPrice === null ? null : { amount: compareAtPrice, currencyCode },
        createdAt: new Date(createdAt),
        rating: { ...rating, average: rating.count === 0 ? 0 : rating.sum / rating.count },
      };
    }),
  );

  const inserted = await insertIgnoringDuplicates(
    db.reviews,
    reviews.map(({ id, productId, submittedAt, ...review }) => ({
      ...review,
      _id: new ObjectId(id),
      productId: new ObjectId(productId),
      submittedAt: new Date(submittedAt),
      moderatedAt: review.status === "PENDING" ? null : new Date(submittedAt),
      moderatedBy: null,
      helpfulCount: 0,
      screening: null,
    })),
  );
  await insertIgnoringDuplicates(
    db.purchases,
    reviews
      .filter((review) => review.verifiedPurchase)
      .map((review) => ({
        _id: `${review.authorId}:${review.productId}`,
        customerId: review.authorId,
        productId: new ObjectId(review.productId),
        orderId: "demo",
        deliveredAt: new Date(review.submittedAt),
      })),
  );
  const result = { categories, products, reviews: inserted };
  logger.info("seeded demo catalog", result);
  return result;
}
