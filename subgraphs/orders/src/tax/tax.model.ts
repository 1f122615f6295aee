import type { TaxRateRow } from "./tax.repository.ts";

/** What TaxRate resolvers receive. */
export interface TaxRateModel {
  id: string;
  countryCode: string;
  categoryId: string | null;
  name: string;
  ratePpm: number;
}

export const toTaxRateModel = (row: TaxRateRow): TaxRateModel => ({
  id: row.id,
  countryCode: row.country_code,
  categoryId: row.category_id,
  name: row.name,
  ratePpm: row.rate_ppm,
});
