import { type UserError, userError } from "./errors.ts";

/**
 * ISO 3166-1 alpha-2 codes of the countries and territories in use. Reserved and
 * exceptionally reserved codes (e.g. UK, EU) are not accepted: carriers do not take them.
 */
const COUNTRY_CODES = new Set(
  (
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW " +
    "BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI " +
    "FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN " +
    "IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME " +
    "MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF " +
    "PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV " +
    "SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE " +
    "YT ZA ZM ZW"
  ).split(" "),
);

export const isCountryCode = (code: string): boolean => COUNTRY_CODES.has(code);

/** The `AddressInput` shape shared by the address book (users) and checkout (orders). */
export interface AddressInput {
  name: string;
  line1: string;
  line2?: string | null;
  city: string;
  region?: string | null;
  postalCode: string;
  countryCode: string;
}

/** A validated address: trimmed, empty optional parts as null, country code upper-case. */
export interface Address {
  name: string;
  line1: string;
  line2: string | null;
  city: string;
  region: string | null;
  postalCode: string;
  countryCode: string;
}

/** The userError codes an address can fail with: every subgraph taking addresses lists them. */
export type AddressErrorCode = "INVALID_ADDRESS" | "INVALID_COUNTRY";

const LIMITS = { name: 100, line1: 200, line2: 200, city: 100, region: 100, postalCode: 20 } as const;
const POSTAL_CODE = /^[A-Za-z0-9][A-Za-z0-9 -]*$/;

/**
 * Validates and normalizes an address. Errors name the offending field under `path`
 * (e.g. `["input", "shippingAddress", "countryCode"]`) so clients can point at it.
 */
export function validateAddress(
  input: AddressInput,
  path: readonly string[],
): { address: Address; errors: [] } | { address: null; errors: UserError<AddressErrorCode>[] } {
  const errors: UserError<AddressErrorCode>[] = [];
  const text = (field: keyof typeof LIMITS, required: boolean): string | null => {
    const value = (input[field] ?? "").trim().replace(/\s+/g, " ");
    if (value === "") {
      if (required) errors.push(userError("INVALID_ADDRESS", `${field} is required.`, [...path, field]));
      return null;
    }
    if (value.length > LIMITS[field]) {
      errors.push(
        userError("INVALID_ADDRESS", `${field} must be at most ${LIMITS[field]} characters.`, [
          ...path,
          field,
        ]),
      );
    }
    return value;
  };

  const name = text("name", true);
  const line1 = text("line1", true);
  const line2 = text("line2", false);
  const city = text("city", true);
  const region = text("region", false);
  const postalCode = text("postalCode", true);
  if (postalCode !== null && !POSTAL_CODE.test(postalCode)) {
    errors.push(
      userError("INVALID_ADDRESS", "postalCode may hold only letters, digits, spaces and hyphens.", [
        ...path,
        "postalCode",
      ]),
    );
  }
  const countryCode = input.countryCode.trim().toUpperCase();
  if (!isCountryCode(countryCode)) {
    errors.push(
      userError("INVALID_COUNTRY", "countryCode must be an ISO 3166-1 alpha-2 code such as US or DE.", [
        ...path,
        "countryCode",
      ]),
    );
  }

  if (errors.length > 0 || name === null || line1 === null || city === null || postalCode === null) {
    return { address: null, errors };
  }
  return {
    address: { name, line1, line2, city, region, postalCode: postalCode.toUpperCase(), countryCode },
    errors: [],
  };
}
