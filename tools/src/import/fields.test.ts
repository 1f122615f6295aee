import { minorUnits } from "@nexus/core";
import { describe, expect, it } from "vitest";
import { GRAPHQL_INT_MAX, parseCustomerId, parseInvoiceDate, parseMoney, parseQuantity } from "./fields.ts";

describe("parseMoney", () => {
  it.each([
    ["2.55", 255],
    ["2.5", 250],
    ["3", 300],
    ["0.85", 85],
    [".5", 50],
    ["2.550", 255],
    ["007.10", 710],
    [" 1.25 ", 125],
    ["0", 0],
    ["0.00", 0],
    ["-11062.06", -1106206],
    ["-0.00", 0],
    // 0.1 + 0.2 style float errors cannot happen: 1.15 * 100 is 114.99999999999999 as a float.
    ["1.15", 115],
    ["4.35", 435],
  ])("reads %s as %i minor units", (text, amount) => {
    expect(parseMoney(text, 2)).toEqual({ ok: true, value: amount });
  });

  it.each([["0.001"], ["2.555"], ["1.0001"]])(
    "refuses %s in a currency of 2 digits as finer than its minor unit",
    (text) => {
      expect(parseMoney(text, 2)).toEqual({ ok: false, reason: "finer-than-minor-unit" });
    },
  );

  it.each([[""], ["."], ["-"], ["abc"], ["1,234.50"], ["1e3"], ["£2.55"], ["2.5.5"], ["+1"]])(
    "refuses %j as not a price",
    (text) => {
      expect(parseMoney(text, 2)).toEqual({ ok: false, reason: "bad-price" });
    },
  );

  it("refuses amounts past a GraphQL Int", () => {
    expect(parseMoney("21474836.47", 2)).toEqual({ ok: true, value: GRAPHQL_INT_MAX });
    expect(parseMoney("21474836.48", 2)).toEqual({ ok: false, reason: "price-out-of-range" });
    expect(parseMoney("99999999999999999999", 2)).toEqual({ ok: false, reason: "price-out-of-range" });
  });

  it("follows the currency's minor unit", () => {
    expect(minorUnits("GBP")).toBe(2);
    expect(minorUnits("JPY")).toBe(0);
    expect(minorUnits("KWD")).toBe(3);
    expect(parseMoney("1500", 0)).toEqual({ ok: true, value: 1500 });
    expect(parseMoney("1500.5", 0)).toEqual({ ok: false, reason: "finer-than-minor-unit" });
    expect(parseMoney("1.234", 3)).toEqual({ ok: true, value: 1234 });
  });
});

describe("parseQuantity", () => {
  it.each([
    ["6", 6],
    ["-12", -12],
    ["12.0", 12],
    ["+3", 3],
    [" 24 ", 24],
    ["80995", 80995],
  ])("reads %s as %i", (text, value) => {
    expect(parseQuantity(text)).toEqual({ ok: true, value });
  });

  it.each([[""], ["six"], ["1.5"], ["12,0"], ["99999999999"], ["1e2"]])("refuses %j", (text) => {
    expect(parseQuantity(text)).toEqual({ ok: false, reason: "bad-quantity" });
  });

  it("calls zero a zero quantity", () => {
    expect(parseQuantity("0")).toEqual({ ok: false, reason: "zero-quantity" });
    expect(parseQuantity("-0")).toEqual({ ok: false, reason: "zero-quantity" });
  });
});

describe("parseInvoiceDate", () => {
  const utc = (text: string) => Date.parse(text);

  it("reads YYYY-MM-DD HH:MM:SS as UTC", () => {
    expect(parseInvoiceDate("2010-12-01 08:26:00")).toEqual({ ok: true, value: utc("2010-12-01T08:26:00Z") });
    expect(parseInvoiceDate("2011-06-30 17:05:59")).toEqual({ ok: true, value: utc("2011-06-30T17:05:59Z") });
    expect(parseInvoiceDate("2011-06-30 17:05")).toEqual({ ok: true, value: utc("2011-06-30T17:05:00Z") });
  });

  it("reads M/D/YYYY H:MM, month first, as UTC", () => {
    expect(parseInvoiceDate("12/1/2010 8:26")).toEqual({ ok: true, value: utc("2010-12-01T08:26:00Z") });
    expect(parseInvoiceDate("1/12/2011 14:05")).toEqual({ ok: true, value: utc("2011-01-12T14:05:00Z") });
    expect(parseInvoiceDate("06/09/2011 09:07")).toEqual({ ok: true, value: utc("2011-06-09T09:07:00Z") });
  });

  it("gives the same instant for the same time in either format", () => {
    expect(parseInvoiceDate("2011-03-04 10:00:00")).toEqual(parseInvoiceDate("3/4/2011 10:00"));
  });

  it.each([
    [""],
    ["2011-13-01 10:00:00"],
    ["2011-02-30 10:00:00"],
    ["2/29/2011 10:00"],
    ["2011-01-01 24:00:00"],
    ["2011-01-01 10:60:00"],
    ["2011-01-01"],
    ["01/01/11 10:00"],
    ["yesterday"],
    ["2011-01-01T10:00:00Z"],
  ])("refuses %j", (text) => {
    expect(parseInvoiceDate(text)).toEqual({ ok: false, reason: "bad-date" });
  });

  it("reads 29 February of a leap year", () => {
    expect(parseInvoiceDate("2/29/2012 10:00")).toEqual({ ok: true, value: utc("2012-02-29T10:00:00Z") });
  });
});

describe("parseCustomerId", () => {
  it("treats an empty id as a guest and a float export as the same customer", () => {
    expect(parseCustomerId("")).toBeNull();
    expect(parseCustomerId("   ")).toBeNull();
    expect(parseCustomerId("17850.0")).toBe("17850");
    expect(parseCustomerId("17850")).toBe("17850");
    expect(parseCustomerId(" 17850.00 ")).toBe("17850");
    expect(parseCustomerId("17850.5")).toBe("17850.5");
    expect(parseCustomerId("CUST-9")).toBe("CUST-9");
  });
});
