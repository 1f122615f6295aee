import { env } from "./config-schema.ts";

/** Money in minor units (cents): never a float. */
export interface Money {
  amount: number;
  currencyCode: string;
}

/**
 * The store currency when STORE_CURRENCY is unset. A store sells in one currency; price lists,
 * conversion and presentment currencies are out of scope.
 */
export const DEFAULT_CURRENCY = "USD";

/** ISO 4217 codes as the runtime's ICU data knows them (Node ships full ICU). */
const CURRENCY_CODES: ReadonlySet<string> = new Set(Intl.supportedValuesOf("currency"));

/** Whether `code` is an ISO 4217 currency code exactly as written: three capital letters ICU knows. */
export function isCurrencyCode(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && CURRENCY_CODES.has(code);
}

/**
 * Digits after the decimal point of a currency's minor unit, from ICU: 0 for JPY, 2 for USD,
 * 3 for KWD. An amount of 1 is one yen, one cent or one fils.
 */
export function minorUnits(currencyCode: string): number {
  return (
    new Intl.NumberFormat("en", { style: "currency", currency: currencyCode }).resolvedOptions()
      .maximumFractionDigits ?? 2
  );
}

/**
 * The `STORE_CURRENCY` config field, shared by every service that reads it, so they all accept
 * and refuse the same codes: an ISO 4217 code in capitals, USD when unset.
 */
export const storeCurrencyField = () =>
  env.field<string>((read, problem) => {
    const value = read("STORE_CURRENCY");
    if (value === undefined) return DEFAULT_CURRENCY;
    if (!isCurrencyCode(value)) {
      problem(`STORE_CURRENCY must be an ISO 4217 currency code in capitals such as USD, got "${value}"`);
      return DEFAULT_CURRENCY;
    }
    return value;
  });
