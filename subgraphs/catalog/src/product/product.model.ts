import type { Money } from "@nexus/core";
import type { ProductDocument } from "../db/collections.ts";

/** What Product resolvers receive: the document with hex ids and without its derived fields. */
export interface ProductModel {
  id: string;
  slug: string;
  name: string;
  description: string;
  /** Hex id, resolved to a Category through the categoryById loader. */
  categoryId: string;
  price: Money;
  attributes: { key: string; value: string }[];
  createdAt: Date;
}

export const toProductModel = (doc: ProductDocument): ProductModel => ({
  id: doc._id.toHexString(),
  slug: doc.slug,
  name: doc.name,
  description: doc.description,
  categoryId: doc.categoryId.toHexString(),
  price: { amount: doc.price.amount, currencyCode: doc.price.currencyCode },
  attributes: doc.attributes.map(({ key, value }) => ({ key, value })),
  createdAt: doc.createdAt,
});
