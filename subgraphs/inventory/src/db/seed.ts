import type { Logger } from "@nexus/core";
import type { Kysely } from "kysely";
import { countStockLevels, insertInitialStock } from "../stock/stock.repository.ts";
import type { Database } from "./database.ts";
import { DEMO_STOCK } from "./demo.ts";

/**
 * Stocks the demo products, only while stock_levels is empty, so a restart never resets
 * real stock. Replicas starting together are safe: rows conflict on product_id and only the
 * rows actually inserted get ledger entries.
 */
export async function seedDemoStock(db: Kysely<Database>, logger: Logger): Promise<void> {
  const created = await db.transaction().execute(async (trx) => {
    if ((await countStockLevels(trx)) > 0) return 0;
    return insertInitialStock(trx, DEMO_STOCK);
  });
  if (created > 0) logger.info("seeded demo stock", { products: created });
}
