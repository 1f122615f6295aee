import { describe, expect, it } from "vitest";
import { countryCode, KNOWN_COUNTRY_NAMES } from "./countries.ts";
import { COLUMNS, classifyRecord, type Layout, nonProductLabel, readHeader } from "./lines.ts";

const layout = (() => {
  const header = readHeader(COLUMNS);
  if (!header.ok) throw new Error("the standard header must read");
  return header.layout;
})();

const record = (fields: Partial<Record<(typeof COLUMNS)[number], string>> = {}) => {
  const values = {
    InvoiceNo: "536365",
    StockCode: "85123A",
    Description: "WHITE HANGING HEART T-LIGHT HOLDER",
    Quantity: "6",
    InvoiceDate: "2010-12-01 08:26:00",
    UnitPrice: "2.55",
    CustomerID: "17850.0",
    Country: "United Kingdom",
    ...fields,
  };
  return COLUMNS.map((column) => values[column]);
};
const classify = (fields: Parameters<typeof record>[0], at: Layout = layout) =>
  classifyRecord(record(fields), at, 7, 2);

describe("readHeader", () => {
  it("finds the columns in any order, any case, under their other spellings", () => {
    const header = readHeader([
      "Country",
      "customer id",
      "Price",
      "InvoiceDate",
      "quantity",
      "Description",
      "StockCode",
      "Invoice",
    ]);
    expect(header).toEqual({
      ok: true,
      layout: {
        width: 8,
        index: {
          Country: 0,
          CustomerID: 1,
          UnitPrice: 2,
          InvoiceDate: 3,
          Quantity: 4,
          Description: 5,
          StockCode: 6,
          InvoiceNo: 7,
        },
      },
    });
  });

  it("names the columns a header lacks", () => {
    expect(readHeader(["InvoiceNo", "StockCode", "Quantity"])).toEqual({
      ok: false,
      missing: ["Description", "InvoiceDate", "UnitPrice", "CustomerID", "Country"],
    });
  });
});

describe("classifyRecord", () => {
  it("reads a sale line", () => {
    expect(classify({})).toEqual({
      kind: "sale",
      line: {
        line: 7,
        invoiceNo: "536365",
        stockCode: "85123A",
        description: "WHITE HANGING HEART T-LIGHT HOLDER",
        quantity: 6,
        at: Date.parse("2010-12-01T08:26:00Z"),
        unitPrice: 255,
        customerId: "17850",
        country: "United Kingdom",
      },
    });
  });

  it("reads a return line from a C invoice with a negative quantity, as a positive quantity", () => {
    const classified = classify({ InvoiceNo: "C536379", Quantity: "-3" });
    expect(classified).toMatchObject({ kind: "return", line: { invoiceNo: "C536379", quantity: 3 } });
  });

  it("reads a guest line (no customer) as a line without a customer", () => {
    expect(classify({ CustomerID: "" })).toMatchObject({ kind: "sale", line: { customerId: null } });
  });

  it("upper-cases and trims the stock code, trims the description", () => {
    expect(classify({ StockCode: " 85123a ", Description: "  HEART  " })).toMatchObject({
      line: { stockCode: "85123A", description: "HEART" },
    });
  });

  it.each([
    ["POST", "POST"],
    ["DOT", "DOT"],
    ["M", "M"],
    ["m", "M"],
    ["BANK CHARGES", "BANK CHARGES"],
    ["C2", "C2"],
    ["D", "D"],
    ["CRUK", "CRUK"],
    ["AMAZONFEE", "AMAZONFEE"],
    ["PADS", "PADS"],
    ["S", "S"],
    ["B", "B"],
    ["ADJUST2", "ADJUST2"],
    ["DCGSSBOY", "DCGSSBOY"],
    ["gift_0001_40", "GIFT_*"],
    ["TEST001", "TEST*"],
  ])("skips %s as a non-product code, counted as %s", (code, label) => {
    expect(classify({ StockCode: code })).toEqual({
      kind: "skipped",
      reason: "non-product-code",
      code: label,
    });
  });

  it.each([["85123A"], ["22423"], ["DCGS0003"], ["COO-00012"], ["90214Y"]])(
    "keeps %s as a stock code",
    (code) => {
      expect(nonProductLabel(code)).toBeNull();
      expect(classify({ StockCode: code }).kind).toBe("sale");
    },
  );

  it("skips a product code the catalog cannot hold as a sku", () => {
    expect(classify({ StockCode: "85123A/B" })).toEqual({
      kind: "skipped",
      reason: "unusable-stock-code",
      code: "85123A/B",
    });
    expect(classify({ StockCode: `123${"A".repeat(62)}` })).toMatchObject({ reason: "unusable-stock-code" });
    expect(classify({ StockCode: `123${"A".repeat(61)}` }).kind).toBe("sale");
    expect(classify({ StockCode: "-12345" })).toMatchObject({ reason: "unusable-stock-code" });
  });

  it("skips zero and negative prices, and prices finer than the currency's minor unit", () => {
    expect(classify({ UnitPrice: "0" })).toEqual({ kind: "skipped", reason: "zero-price" });
    expect(classify({ UnitPrice: "0.00" })).toEqual({ kind: "skipped", reason: "zero-price" });
    expect(classify({ UnitPrice: "-11062.06" })).toEqual({ kind: "skipped", reason: "negative-price" });
    expect(classify({ UnitPrice: "0.001" })).toEqual({ kind: "skipped", reason: "finer-than-minor-unit" });
    expect(classify({ UnitPrice: "99999999.99" })).toEqual({ kind: "skipped", reason: "price-out-of-range" });
  });

  it("skips a positive quantity on a C invoice and a negative one on a sale invoice", () => {
    expect(classify({ InvoiceNo: "C536379", Quantity: "2" })).toEqual({
      kind: "skipped",
      reason: "return-with-positive-quantity",
    });
    expect(classify({ Quantity: "-2" })).toEqual({ kind: "skipped", reason: "negative-quantity-on-sale" });
  });

  it("calls a non-product line non-product before looking at its price", () => {
    expect(classify({ StockCode: "B", UnitPrice: "-11062.06", InvoiceNo: "A563185" })).toMatchObject({
      reason: "non-product-code",
    });
  });

  it.each([
    [{ InvoiceNo: " " }, "missing-invoice"],
    [{ StockCode: "" }, "missing-stock-code"],
    [{ Quantity: "six" }, "bad-quantity"],
    [{ Quantity: "" }, "bad-quantity"],
    [{ Quantity: "0" }, "zero-quantity"],
    [{ InvoiceDate: "2010-02-30 10:00:00" }, "bad-date"],
    [{ InvoiceDate: "" }, "bad-date"],
    [{ UnitPrice: "two" }, "bad-price"],
    [{ UnitPrice: "", StockCode: "POST" }, "bad-price"],
  ] as const)("calls %j malformed (%s)", (fields, reason) => {
    expect(classify(fields)).toEqual({ kind: "malformed", reason });
  });

  it("calls a record with too few or too many fields malformed", () => {
    expect(classifyRecord(record().slice(0, 7), layout, 3, 2)).toEqual({
      kind: "malformed",
      reason: "field-count",
    });
    expect(classifyRecord([...record(), "extra"], layout, 3, 2)).toEqual({
      kind: "malformed",
      reason: "field-count",
    });
  });
});

describe("countryCode", () => {
  it.each([
    ["United Kingdom", "GB"],
    ["EIRE", "IE"],
    ["France", "FR"],
    ["Germany", "DE"],
    ["RSA", "ZA"],
    ["USA", "US"],
    ["Czech Republic", "CZ"],
    [" united kingdom ", "GB"],
    ["UK", "GB"],
    ["NL", "NL"],
  ])("maps %s to %s", (name, code) => {
    expect(countryCode(name)).toEqual({ known: true, code });
  });

  it.each([["Unspecified"], ["European Community"], ["Channel Islands"], ["West Indies"], [""]])(
    "maps %j to no country on purpose",
    (name) => {
      expect(countryCode(name)).toEqual({ known: true, code: null });
    },
  );

  it("does not know made-up names or lower-case codes", () => {
    expect(countryCode("Atlantis")).toEqual({ known: false });
    expect(countryCode("gb")).toEqual({ known: false });
  });

  it("maps every known name to a two-letter code or null", () => {
    for (const name of KNOWN_COUNTRY_NAMES) {
      const lookup = countryCode(name);
      expect(lookup.known).toBe(true);
      if (lookup.known && lookup.code !== null) expect(lookup.code).toMatch(/^[A-Z]{2}$/);
    }
  });
});
