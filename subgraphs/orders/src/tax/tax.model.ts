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

/** Parts per million as the percent clients read (200000 → 20). */
export const ppmToPercent = (ppm: number): number => ppm / 10_000;

/**
 * A percent as parts per million (8.875 → 88750), or null when it is not a finite number from 0
 * to 100 with at most four decimals.
 */
export function percentToPpm(percent: number): number | null {
  if (!Number.isFinite(percent)) return null;
  const ppm = Math.round(percent * 10_000);
  if (Math.abs(percent * 10_000 - ppm) > 1e-6) return null;
  return ppm >= 0 && ppm <= 1_000_000 ? ppm : null;
}
