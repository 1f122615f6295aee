import { DEFAULT_CURRENCY, type Logger } from "@nexus/core";
import { demoCategories, demoProducts } from "@nexus/demo";
import { insertMissingCategories } from "../category/category.repository.ts";
import { countProducts, insertMissingProducts } from "../product/product.repository.ts";
import type { CatalogDb } from "./collections.ts";

/**
 * Loads the demo catalog into an empty `products` collection, with the demo data set's fixed
 * ids so other subgraphs can seed stock and facts for the same products. A catalog that holds
 * any product is left alone. Returns how many documents it inserted.
 */
export async function seedDemoData(
  db: CatalogDb,
  logger: Logger,
): Promise<{ categories: number; products: number }> {
  if ((await countProducts(db)) > 0) return { categories: 0, products: 0 };
  const createdAt = new Date();
  const categories = await insertMissingCategories(db, demoCategories());
  const products = await insertMissingProducts(
    db,
    demoProducts().map((product) => ({
      id: product.id,
      slug: product.slug,
      name: product.name,
      description: product.description,
      categoryId: product.categoryId,
      price: { amount: product.price, currencyCode: DEFAULT_CURRENCY },
      attributes: product.attributes,
      createdAt,
    })),
  );
  logger.info("seeded demo catalog", { categories, products });
  return { categories, products };
}
