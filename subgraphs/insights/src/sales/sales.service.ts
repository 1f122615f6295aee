import { pageSize } from "@nexus/core";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { type ProductSalesModel, toProductSalesModel } from "./sales.model.ts";
import { findTopProducts } from "./sales.repository.ts";

/** `topProducts`: the page size is checked (10 by default) before the one aggregate query. */
export async function topProducts(
  deps: { db: Kysely<Database> },
  first: number | null | undefined,
): Promise<ProductSalesModel[]> {
  const limit = pageSize(first, 10);
  return (await findTopProducts(deps.db, limit)).map(toProductSalesModel);
}
