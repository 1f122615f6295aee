import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, loadConfigFrom } from "./config-schema.ts";
import { DEFAULT_CURRENCY, isCurrencyCode, minorUnits, storeCurrencyField } from "./money.ts";

const schema = z.object({ storeCurrency: storeCurrencyField() });
const load = (vars: Record<string, string | undefined>) => loadConfigFrom(schema, vars).storeCurrency;

function problemsOf(vars: Record<string, string>): readonly string[] {
  try {
    load(vars);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("the configuration was accepted");
}

describe("STORE_CURRENCY", () => {
  it("is USD when unset or empty", () => {
    expect(DEFAULT_CURRENCY).toBe("USD");
    expect(load({})).toBe("USD");
    expect(load({ STORE_CURRENCY: "  " })).toBe("USD");
  });

  it("takes any ISO 4217 code, trimmed", () => {
    expect(load({ STORE_CURRENCY: "JPY" })).toBe("JPY");
    expect(load({ STORE_CURRENCY: " EUR " })).toBe("EUR");
    expect(load({ STORE_CURRENCY: "KWD" })).toBe("KWD");
  });

  it("refuses a code in lower case rather than guessing", () => {
    expect(problemsOf({ STORE_CURRENCY: "eur" })).toEqual([
      'STORE_CURRENCY must be an ISO 4217 currency code in capitals such as USD, got "eur"',
    ]);
  });

  it("refuses three capitals that are no currency, and anything else", () => {
    for (const value of ["XYZ", "ABC", "US", "USDT", "pounds", "U$D", "12€"]) {
      expect(problemsOf({ STORE_CURRENCY: value })).toEqual([
        `STORE_CURRENCY must be an ISO 4217 currency code in capitals such as USD, got "${value}"`,
      ]);
    }
  });
});

describe("isCurrencyCode", () => {
  it("knows ISO 4217 codes exactly as written", () => {
    expect(isCurrencyCode("GBP")).toBe(true);
    expect(isCurrencyCode("gbp")).toBe(false);
    expect(isCurrencyCode("XYZ")).toBe(false);
    expect(isCurrencyCode(" GBP")).toBe(false);
  });
});

describe("minorUnits", () => {
  it("gives the digits of each currency's minor unit", () => {
    expect(minorUnits("JPY")).toBe(0);
    expect(minorUnits("KRW")).toBe(0);
    expect(minorUnits("USD")).toBe(2);
    expect(minorUnits("EUR")).toBe(2);
    expect(minorUnits("GBP")).toBe(2);
    expect(minorUnits("KWD")).toBe(3);
    expect(minorUnits("BHD")).toBe(3);
  });
});
