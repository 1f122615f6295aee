/** Browsing: a category's products one page at a time, and one product's page. */
import type { StorefrontClient } from "./client.ts";
import type { CategoryPageQuery, ProductPageQuery } from "./gql/graphql.ts";
import { CategoryPageDocument, ProductPageDocument } from "./gql/graphql.ts";

export const CategoryPage = CategoryPageDocument;

export const ProductPage = ProductPageDocument;

export type CategoryProduct = CategoryPageQuery["products"]["edges"][number]["node"];
export type ProductDetails = NonNullable<ProductPageQuery["product"]>;

export interface CategoryListing {
  category: NonNullable<CategoryPageQuery["category"]>;
  totalCount: number;
  /** One entry per page read, in order. */
  pages: CategoryProduct[][];
  hasMore: boolean;
}

/**
 * Reads up to `pages` pages of `pageSize` products of a category (and its subcategories), newest
 * first, following each page's `endCursor` as an infinite scroll would.
 */
export async function listCategory(
  client: StorefrontClient,
  slug: string,
  { pageSize, pages }: { pageSize: number; pages: number },
): Promise<CategoryListing> {
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) {
    throw new Error(`The page size must be a whole number from 1 to 100, got ${pageSize}`);
  }
  if (!Number.isInteger(pages) || pages < 1) {
    throw new Error(`The number of pages to read must be a whole number of at least 1, got ${pages}`);
  }
  const read: CategoryProduct[][] = [];
  let after: string | null = null;
  for (;;) {
    const page: CategoryPageQuery = await client.request(CategoryPage, { slug, first: pageSize, after });
    if (!page.category) throw new Error(`There is no category "${slug}"`);
    read.push(page.products.edges.map((edge) => edge.node));
    const { hasNextPage, endCursor } = page.products.pageInfo;
    if (!hasNextPage || !endCursor || read.length === pages) {
      return {
        category: page.category,
        totalCount: page.products.totalCount,
        pages: read,
        hasMore: hasNextPage,
      };
    }
    after = endCursor;
  }
}

/** A product's page: price, stock and the newest reviews. */
export async function showProduct(
  client: StorefrontClient,
  id: string,
  reviews = 3,
): Promise<ProductDetails> {
  const { product } = await client.request(ProductPage, { id, reviews });
  if (!product) throw new Error(`There is no product ${id}`);
  return product;
}
