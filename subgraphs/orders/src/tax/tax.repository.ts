import { type Kysely, type Selectable, sql, type Transaction } from "kysely";
import type { Database, TaxRatesTable } from "../db/database.ts";
import type { TaxRateRule } from "../pricing/pricing.model.ts";

export type TaxRateRow = Selectable<TaxRatesTable>;

type Db = Kysely<Database> | Transaction<Database>;

/**
 * Sets the rate of (country, category), replacing the one set before: one statement on the
 * unique index over (country_code, coalesce(category_id, '')), so concurrent sets of one key
 * never fail; the last one wins and the rate keeps its id.
 */
export async function upsertTaxRate(
  db: Db,
  rate: { id: string; country_code: string; category_id: string | null; name: string; rate_ppm: number },
): Promise<TaxRateRow> {
  return db
    .insertInto("tax_rates")
    .values(rate)
    .onConflict((oc) =>
      oc
        .expression(sql`country_code, coalesce(category_id, '')`)
        .doUpdateSet((eb) => ({ name: eb.ref("excluded.name"), rate_ppm: eb.ref("excluded.rate_ppm") })),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** False when there was no such rate. */
export async function deleteTaxRate(db: Db, id: string): Promise<boolean> {
  const deleted = await db.deleteFrom("tax_rates").where("id", "=", id).returning("id").executeTakeFirst();
  return deleted !== undefined;
}

/** Rates by id, in no particular order: one query for every reference. */
export async function findTaxRatesByIds(db: Db, ids: readonly string[]): Promise<TaxRateRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom("tax_rates").selectAll().where("id", "in", ids).execute();
}

/** The rates of one country, or of all: by country, the standard rate first, then by category. */
export async function findTaxRates(db: Db, countryCode: string | null): Promise<TaxRateRow[]> {
  let query = db.selectFrom("tax_rates").selectAll();
  if (countryCode !== null) query = query.where("country_code", "=", countryCode);
  return query
    .orderBy("country_code")
    .orderBy(sql`category_id IS NULL`, "desc")
    .orderBy("category_id")
    .execute();
}

/**
 * For the pricing engine: the rates of `countryCode`, its standard one (no category) first, then
 * by category; empty when it has none.
 */
export async function findTaxRatesForCountry(db: Db, countryCode: string): Promise<TaxRateRule[]> {
  const rows = await findTaxRates(db, countryCode.trim().toUpperCase());
  return rows.map((row) => ({ categoryId: row.category_id, name: row.name, ratePpm: row.rate_ppm }));
}
