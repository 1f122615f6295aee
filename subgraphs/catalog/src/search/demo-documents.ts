import type { DemoCategory, DemoProduct } from "../db/demo.ts";
import type { SearchDocument } from "./search-engine.ts";

/**
 * Search documents for demo products (ACTIVE ones only, as in the index), with each product's
 * category path. Tests and benchmarks use it; popularity, rating and stock come from `extra`.
 */
export function demoSearchDocuments(
  products: readonly DemoProduct[],
  categories: readonly DemoCategory[],
  extra: (
    product: DemoProduct,
    index: number,
  ) => Partial<Pick<SearchDocument, "inStock" | "popularity" | "rating">> = () => ({}),
  currencyCode = "EUR",
): SearchDocument[] {
  const byId = new Map(categories.map((c) => [c.id, c]));
  const pathOf = (id: string): DemoCategory[] => {
    const path: DemoCategory[] = [];
    for (let c = byId.get(id); c; c = c.parentId === null ? undefined : byId.get(c.parentId)) path.push(c);
    return path;
  };
  return products
    .filter((p) => p.status === "ACTIVE")
    .map((product, index) => {
      const path = pathOf(product.categoryId);
      const labels = new Map(path.flatMap((c) => c.attributes.map((a) => [a.name, a.label] as const)));
      return {
        id: product.id,
        sku: product.sku,
        name: product.name,
        brand: product.brand,
        categoryIds: path.map((c) => c.id),
        categoryNames: path.map((c) => c.name),
        tags: [...product.tags],
        attributes: product.attributes.map((a) => ({
          name: a.name,
          label: labels.get(a.name) ?? a.name,
          value: a.value,
        })),
        description: product.description,
        price: product.price,
        currencyCode,
        inStock: true,
        popularity: 0,
        rating: 0,
        ...extra(product, index),
      };
    });
}
