import { randomUUID } from "node:crypto";
import { badUserInput, inputField, isCountryCode, isObjectIdHex, isUuid, userError } from "@nexus/core";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { percentToPpm } from "../pricing/pricing.ts";
import type { UserError } from "../user-error.ts";
import { type TaxRateModel, toTaxRateModel } from "./tax.model.ts";
import { deleteTaxRate as deleteTaxRateRow, findTaxRates, upsertTaxRate } from "./tax.repository.ts";

export const MAX_NAME_LENGTH = 100;
export const MAX_CATEGORY_ID_LENGTH = 100;

export interface SetTaxRateInput {
  countryCode: string;
  /** Null or absent: the country's standard rate. */
  categoryId?: string | null;
  name: string;
  ratePercent: number;
}

export type TaxRateResult = { taxRate: TaxRateModel | null; userErrors: UserError[] };
export type DeleteResult = { deleted: boolean; userErrors: UserError[] };

const length = (text: string) => Array.from(text).length;
const normalizeCountry = (code: string) => code.trim().toUpperCase();

/**
 * Sets a country's standard rate (no category) or its rate for one catalog category, replacing
 * the rate set before for the same pair, which keeps its id.
 */
export async function setTaxRate(db: Kysely<Database>, input: SetTaxRateInput): Promise<TaxRateResult> {
  const errors: UserError[] = [];
  const countryCode = normalizeCountry(input.countryCode);
  if (!isCountryCode(countryCode)) {
    errors.push(
      userError(
        "INVALID_COUNTRY",
        "countryCode must be an ISO 3166-1 alpha-2 code such as US or DE.",
        inputField("countryCode"),
      ),
    );
  }
  let categoryId: string | null = null;
  if (input.categoryId != null) {
    categoryId = input.categoryId.trim();
    if (length(categoryId) === 0 || length(categoryId) > MAX_CATEGORY_ID_LENGTH) {
      errors.push(
        userError(
          "INVALID_CATEGORY_ID",
          `categoryId must be 1 to ${MAX_CATEGORY_ID_LENGTH} characters; leave it out for the standard rate.`,
          inputField("categoryId"),
        ),
      );
    }
    // Catalog ids are ObjectIds, which catalog writes in lower case: match them in any case.
    if (isObjectIdHex(categoryId)) categoryId = categoryId.toLowerCase();
  }
  const name = input.name.trim();
  if (length(name) === 0 || length(name) > MAX_NAME_LENGTH) {
    errors.push(
      userError("INVALID_NAME", `name must be 1 to ${MAX_NAME_LENGTH} characters.`, inputField("name")),
    );
  }
  const ratePpm = percentToPpm(input.ratePercent);
  if (ratePpm === null) {
    errors.push(
      userError(
        "INVALID_RATE",
        "ratePercent must be 0 to 100 with at most four decimals.",
        inputField("ratePercent"),
      ),
    );
  }
  if (errors.length > 0 || ratePpm === null) return { taxRate: null, userErrors: errors };
  const row = await upsertTaxRate(db, {
    id: randomUUID(),
    country_code: countryCode,
    category_id: categoryId,
    name,
    rate_ppm: ratePpm,
  });
  return { taxRate: toTaxRateModel(row), userErrors: [] };
}

export async function deleteTaxRate(db: Kysely<Database>, input: { id: string }): Promise<DeleteResult> {
  const deleted = isUuid(input.id) && (await deleteTaxRateRow(db, input.id.toLowerCase()));
  return deleted
    ? { deleted, userErrors: [] }
    : {
        deleted,
        userErrors: [userError("TAX_RATE_NOT_FOUND", "There is no such tax rate.", inputField("id"))],
      };
}

/**
 * The rates by country, the standard rate first and then by category; only `countryCode`'s when
 * given. A malformed country code is BAD_USER_INPUT.
 */
export async function listTaxRates(
  db: Kysely<Database>,
  countryCode: string | null | undefined,
): Promise<TaxRateModel[]> {
  let country: string | null = null;
  if (countryCode != null) {
    country = normalizeCountry(countryCode);
    if (!isCountryCode(country)) {
      throw badUserInput("countryCode must be an ISO 3166-1 alpha-2 code such as US or DE.", "countryCode");
    }
  }
  return (await findTaxRates(db, country)).map(toTaxRateModel);
}
