import { describe, expect, it } from "vitest";
import { batchBySize, CAPS, MAX_REQUEST_BYTES } from "./batch.ts";
import type { InvoiceLine } from "./lines.ts";
import { MAX_PRODUCT_NAME, PlanBuilder, productName } from "./plan.ts";
import { emptyStats } from "./read.ts";
import { formatReport } from "./report.ts";

const at = (text: string) => Date.parse(`${text}Z`);
let lineNumber = 1;
const line = (fields: Partial<InvoiceLine>): InvoiceLine => ({
  line: ++lineNumber,
  invoiceNo: "536365",
  stockCode: "85123A",
  description: "WHITE HANGING HEART",
  quantity: 1,
  at: at("2010-12-01T08:26:00"),
  unitPrice: 255,
  customerId: "17850",
  country: "United Kingdom",
  ...fields,
});

describe("PlanBuilder", () => {
  it("prices a product at its latest sale line and names it after its latest described line", () => {
    const builder = new PlanBuilder();
    builder.add(
      "sale",
      line({ invoiceNo: "2", at: at("2011-03-01T10:00:00"), unitPrice: 295, description: "HEART, NEW" }),
    );
    builder.add(
      "sale",
      line({ invoiceNo: "1", at: at("2011-01-01T10:00:00"), unitPrice: 255, description: "HEART OLD" }),
    );
    builder.add(
      "sale",
      line({ invoiceNo: "3", at: at("2011-04-01T10:00:00"), unitPrice: 265, description: "" }),
    );
    // A return after the last sale does not set the price of a product that was sold.
    builder.add(
      "return",
      line({ invoiceNo: "C4", at: at("2011-05-01T10:00:00"), unitPrice: 999, description: "" }),
    );
    expect(builder.build().products).toEqual([{ sku: "85123A", name: "HEART, NEW", unitPrice: 265 }]);
  });

  it("prices a product only ever returned at its latest return, and names it by its sku without a description", () => {
    const builder = new PlanBuilder();
    builder.add("return", line({ invoiceNo: "C1", stockCode: "22752", description: "", unitPrice: 765 }));
    expect(builder.build().products).toEqual([{ sku: "22752", name: "22752", unitPrice: 765 }]);
  });

  it("takes the later line in the file when two lines have the same time", () => {
    const builder = new PlanBuilder();
    builder.add("sale", line({ invoiceNo: "1", unitPrice: 100, description: "FIRST" }));
    builder.add("sale", line({ invoiceNo: "2", unitPrice: 200, description: "SECOND" }));
    expect(builder.build().products).toEqual([{ sku: "85123A", name: "SECOND", unitPrice: 200 }]);
  });

  it("makes one order per invoice, one line per product, at the products' mean price rounded half up", () => {
    const builder = new PlanBuilder();
    builder.add("sale", line({ quantity: 1, unitPrice: 100 }));
    builder.add("sale", line({ quantity: 2, unitPrice: 101 }));
    builder.add("sale", line({ stockCode: "22752", quantity: 3, unitPrice: 765 }));
    builder.add("sale", line({ stockCode: "X1001", quantity: 1, unitPrice: 1 }));
    builder.add("sale", line({ stockCode: "X1001", quantity: 1, unitPrice: 2 }));
    const plan = builder.build();
    expect(plan.orders).toEqual([
      {
        externalId: "536365",
        customerExternalId: "17850",
        at: at("2010-12-01T08:26:00"),
        countryCode: "GB",
        lines: [
          // (100 + 202) / 3 = 100.67
          { sku: "85123A", quantity: 3, unitPrice: 101 },
          { sku: "22752", quantity: 3, unitPrice: 765 },
          // 3 / 2 = 1.5, half up
          { sku: "X1001", quantity: 2, unitPrice: 2 },
        ],
      },
    ]);
    expect(plan.mergedLines).toBe(2);
  });

  it("keeps sale and credit invoices apart, each sorted oldest first", () => {
    const builder = new PlanBuilder();
    builder.add("sale", line({ invoiceNo: "536370", at: at("2010-12-02T10:00:00") }));
    builder.add("return", line({ invoiceNo: "C536371", at: at("2010-12-03T10:00:00") }));
    builder.add("sale", line({ invoiceNo: "536369", at: at("2010-12-02T10:00:00") }));
    builder.add("sale", line({ invoiceNo: "536360", at: at("2010-12-01T10:00:00") }));
    const plan = builder.build();
    expect(plan.orders.map((order) => order.externalId)).toEqual(["536360", "536369", "536370"]);
    expect(plan.returns.map((credit) => credit.externalId)).toEqual(["C536371"]);
  });

  it("gives a customer the country of their latest invoice that maps to one", () => {
    const builder = new PlanBuilder();
    builder.add(
      "sale",
      line({ invoiceNo: "1", customerId: "1", country: "France", at: at("2011-01-01T10:00:00") }),
    );
    builder.add(
      "sale",
      line({ invoiceNo: "2", customerId: "1", country: "Germany", at: at("2011-02-01T10:00:00") }),
    );
    builder.add(
      "sale",
      line({ invoiceNo: "3", customerId: "1", country: "Unspecified", at: at("2011-03-01T10:00:00") }),
    );
    builder.add(
      "sale",
      line({ invoiceNo: "0", customerId: "1", country: "EIRE", at: at("2010-03-01T10:00:00") }),
    );
    builder.add("sale", line({ invoiceNo: "4", customerId: "2", country: "Unspecified" }));
    builder.add("sale", line({ invoiceNo: "5", customerId: null, country: "France" }));
    const plan = builder.build();
    expect(plan.customers).toEqual([
      { externalId: "1", countryCode: "DE" },
      { externalId: "2", countryCode: null },
    ]);
    expect(plan.orders.find((order) => order.externalId === "5")).toMatchObject({
      customerExternalId: null,
      countryCode: "FR",
    });
  });

  it("counts unknown countries and invoices naming several customers", () => {
    const builder = new PlanBuilder();
    builder.add("sale", line({ country: "Atlantis" }));
    builder.add("sale", line({ stockCode: "22752", country: "Atlantis", customerId: "99" }));
    builder.add("sale", line({ stockCode: "22753", customerId: "98" }));
    const plan = builder.build();
    expect(plan.unknownCountries).toEqual(new Map([["Atlantis", 2]]));
    expect(plan.mixedCustomerInvoices).toBe(1);
    expect(plan.orders[0]?.customerExternalId).toBe("17850");
  });
});

describe("productName", () => {
  it("makes one line of single spaces and cuts at the catalog's longest name, never inside a character", () => {
    expect(productName("ASSORTED COLOUR BIRD\r\nORNAMENT")).toBe("ASSORTED COLOUR BIRD ORNAMENT");
    expect(productName("  TWO   SPACES\tTAB ")).toBe("TWO SPACES TAB");
    expect(productName("X".repeat(250))).toHaveLength(MAX_PRODUCT_NAME);
    const emoji = `${"X".repeat(199)}😀`;
    expect(productName(emoji)).toBe("X".repeat(199));
  });

  it("names products that way", () => {
    const builder = new PlanBuilder();
    builder.add("sale", line({ description: "BIRD\nORNAMENT" }));
    expect(builder.build().products[0]?.name).toBe("BIRD ORNAMENT");
  });
});

describe("batchBySize", () => {
  const item = (n: number, padding = 0) => ({ n, text: "x".repeat(padding) });
  const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value)) + 1;

  it("cuts at the item cap, keeping the order", () => {
    const items = Array.from({ length: 1_201 }, (_, n) => item(n));
    const { batches, oversized } = batchBySize(items, { maxItems: CAPS.products, baseBytes: 100 });
    expect(batches.map((batch) => batch.length)).toEqual([500, 500, 201]);
    expect(batches.flat()).toEqual(items);
    expect(oversized).toEqual([]);
  });

  it("cuts before a batch would pass the byte limit, counting UTF-8 bytes", () => {
    const items = Array.from({ length: 10 }, (_, n) => ({ n, text: "é".repeat(40) }));
    const size = bytes(items[0]);
    const maxBytes = 50 + size * 3;
    const { batches } = batchBySize(items, { maxItems: 1_000, maxBytes, baseBytes: 50 });
    expect(batches.map((batch) => batch.length)).toEqual([3, 3, 3, 1]);
    for (const batch of batches) {
      const body = JSON.stringify({ input: { list: batch } });
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(maxBytes);
    }
    // One byte less and three no longer fit.
    expect(
      batchBySize(items, { maxItems: 1_000, maxBytes: maxBytes - 1, baseBytes: 50 }).batches[0],
    ).toHaveLength(2);
  });

  it("sets aside an item that alone passes the limit, and sends the rest", () => {
    const items = [item(1), item(2, 5_000), item(3)];
    const { batches, oversized } = batchBySize(items, { maxItems: 10, maxBytes: 1_000, baseBytes: 100 });
    expect(batches).toEqual([[item(1), item(3)]]);
    expect(oversized).toEqual([item(2, 5_000)]);
  });

  it("keeps real requests of 500 orders under the gateway's limit", () => {
    expect(MAX_REQUEST_BYTES).toBeLessThan(128 * 1024);
    const order = (n: number) => ({
      externalId: String(536_365 + n),
      customerId: "0c3e0b52-4a7f-4d38-9d55-000000000000",
      placedAt: "2010-12-01T08:26:00.000Z",
      currencyCode: "GBP",
      countryCode: "GB",
      lines: Array.from({ length: 1 + (n % 40) }, (_, k) => ({
        productId: "6955b9006e657802000000ab",
        productName: `SET OF 3 "VINTAGE" CAKE TINS, PANTRY ${k}`,
        categoryId: "6955b9006e657801000000ab",
        quantity: 12,
        unitPrice: 495,
      })),
    });
    const orders = Array.from({ length: 2_000 }, (_, n) => order(n));
    const baseBytes = 300;
    const { batches } = batchBySize(orders, { maxItems: CAPS.orders, baseBytes });
    expect(batches.length).toBeGreaterThan(4);
    for (const batch of batches) {
      expect(baseBytes + Buffer.byteLength(JSON.stringify(batch))).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
      expect(batch.length).toBeLessThanOrEqual(CAPS.orders);
    }
  });
});

describe("formatReport", () => {
  it("reports lines read, imported and left out by reason, what was loaded, and the speed", () => {
    const stats = emptyStats();
    stats.linesRead = 12;
    stats.saleLines = 6;
    stats.returnLines = 1;
    stats.guestLines = 2;
    stats.skipped.set("non-product-code", {
      count: 3,
      codes: new Map([
        ["POST", 2],
        ["M", 1],
      ]),
    });
    stats.malformed.set("bad-date", { count: 7, firstLines: [4, 9, 10, 11, 12] });
    const builder = new PlanBuilder();
    builder.add("sale", line({ country: "Atlantis" }));
    const plan = builder.build();
    const text = formatReport({
      stats,
      plan,
      elapsedMs: 2_000,
      outcome: {
        products: { created: 1, existing: 0, failed: 0 },
        customers: { created: 0, existing: 1, failed: 0 },
        orders: { created: 0, existing: 1, failed: 2 },
        returns: { created: 0, existing: 0, failed: 0 },
        requests: 4,
        userErrors: ["order: NOT_FOUND product gone (input.orders.0)"],
      },
    });
    expect(text).toContain("Lines read         12");
    expect(text).toContain("Lines imported     7 (6 sale, 1 return; 2 of them guest lines)");
    expect(text).toContain("non-product code (postage, fees, adjustments, vouchers): 3 (POST 2, M 1)");
    expect(text).toContain("unreadable invoice date: 7 (line 4, 9, 10, 11, 12, ...)");
    expect(text).toContain('Unknown countries (imported without a country): "Atlantis" 1');
    expect(text).toMatch(/orders\s+1 {2}created\s+0 {2}existing\s+1 {2}failed 2/);
    expect(text).toContain("order: NOT_FOUND product gone");
    expect(text).toContain("Elapsed 2.0s, 6 lines/s (4 requests)");
  });

  it("says when nothing was sent", () => {
    expect(formatReport({ stats: emptyStats(), plan: new PlanBuilder().build(), elapsedMs: 10 })).toContain(
      "Found (dry run, nothing sent)",
    );
  });
});
