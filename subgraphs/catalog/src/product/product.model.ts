import type { Connection, Money } from "@nexus/core";
import type { CategoryModel } from "../category/category.model.ts";
import type { ProductDocument, ProductStatus } from "../db/collections.ts";

/** What Product resolvers receive: the document with hex ids and without its derived fields. */
export interface ProductModel {
  id: string;
  sku: string;
  slug: string;
  name: string;
  description: string;
  brand: string;
  /** Hex id, resolved to a Category through the categoryById loader. */
  categoryId: string;
  price: Money;
  compareAtPrice: Money | null;
  attributes: { name: string; value: string }[];
  images: { url: string; alt: string }[];
  tags: string[];
  status: ProductStatus;
  /** Full-precision average (the API rounds it) and count of APPROVED reviews. */
  rating: { average: number; count: number };
  createdAt: Date;
  updatedAt: Date;
}

export const toProductModel = (doc: ProductDocument): ProductModel => ({
  id: doc._id.toHexString(),
  sku: doc.sku,
  slug: doc.slug,
  name: doc.name,
  description: doc.description,
  brand: doc.brand,
  categoryId: doc.categoryId.toHexString(),
  price: { amount: doc.price.amount, currencyCode: doc.price.currencyCode },
  compareAtPrice: doc.compareAtPrice
    ? { amount: doc.compareAtPrice.amount, currencyCode: doc.compareAtPrice.currencyCode }
    : null,
  attributes: doc.attributes.map(({ name, value }) => ({ name, value })),
  images: doc.images.map(({ url, alt }) => ({ url, alt })),
  tags: [...doc.tags],
  status: doc.status,
  rating: { average: doc.rating.average, count: doc.rating.count },
  createdAt: doc.createdAt,
  updatedAt: doc.updatedAt,
});

export interface FacetValueModel {
  value: string;
  count: number;
}

export interface CategoryFacetModel {
  category: CategoryModel;
  count: number;
}

export interface ProductFacetsModel {
  attributes: { name: string; values: FacetValueModel[] }[];
  brands: FacetValueModel[];
  categories: CategoryFacetModel[];
  priceRange: { min: Money; max: Money } | null;
}

/**
 * A page plus lazily computed totals: `totalCount` and `facets` cost an aggregation, so they
 * run only when selected, and share one aggregation when both are.
 */
export interface ProductConnectionModel extends Omit<Connection<ProductModel>, "totalCount"> {
  totalCount: () => Promise<number>;
  facets: () => Promise<ProductFacetsModel>;
}

/** A page of `productFeed`; `totalCount` costs a count, so it runs only when selected. */
export interface ProductFeedConnectionModel extends Omit<Connection<ProductModel>, "totalCount"> {
  totalCount: () => Promise<number>;
}
