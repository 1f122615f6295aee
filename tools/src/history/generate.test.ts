import { Readable } from "node:stream";
import { demoProducts } from "@nexus/catalog/demo";
import { describe, expect, it } from "vitest";
import { COLUMNS, nonProductLabel } from "../import/lines.ts";
import { readInvoiceLines, readRecords } from "../import/read.ts";
import {
  type CatalogProduct,
  csvField,
  type HistoryOptions,
  type HistoryRow,
  historyCsvChunks,
  historyRows,
} from "./generate.ts";
import { demoHistoryOptions, demoHistoryPlan } from "./seed-demo.ts";

const DAY = 86_400_000;
const YEAR: HistoryOptions = { customers: 500, months: 12, seed: 7, start: "2025-01-01" };
const rows = [...historyRows(YEAR)];
const read = (list: Iterable<HistoryRow>) =>
  readRecords(
    (function* () {
      yield [...COLUMNS];
      for (const row of list) yield COLUMNS.map((column) => row[column]);
    })(),
    2,
  );
const { stats, plan } = read(rows);
const time = (row: HistoryRow) => Date.parse(`${row.InvoiceDate.replace(" ", "T")}Z`);

describe("historyRows", () => {
  it("is the same for the same seed and differs for another", () => {
    expect([...historyRows({ ...YEAR, customers: 50 })]).toEqual([
      ...historyRows({ ...YEAR, customers: 50 }),
    ]);
    expect([...historyRows({ ...YEAR, customers: 50, seed: 8 })]).not.toEqual([
      ...historyRows({ ...YEAR, customers: 50 }),
    ]);
  });

  it("writes only lines the importer reads: no malformed line, left-out lines only for postage, fees and zero prices", () => {
    expect(stats.malformed.size).toBe(0);
    expect(new Set(stats.skipped.keys())).toEqual(new Set(["non-product-code", "zero-price"]));
    const codes = stats.skipped.get("non-product-code")?.codes;
    expect(codes?.get("POST")).toBeGreaterThan(0);
    expect(codes?.get("DOT")).toBeGreaterThan(0);
    expect(stats.linesRead).toBe(rows.length);
  });

  it("has exactly the customers asked for, guest lines, returns and messy fields", () => {
    expect(plan.customers).toHaveLength(500);
    expect(stats.guestLines).toBeGreaterThan(rows.length * 0.05);
    expect(plan.returns.length).toBeGreaterThan(plan.orders.length * 0.05);
    expect(rows.some((row) => row.CustomerID.endsWith(".0"))).toBe(true);
    expect(rows.some((row) => row.Description.includes(","))).toBe(true);
    expect(rows.some((row) => row.Description.includes('"'))).toBe(true);
    expect(plan.mergedLines).toBeGreaterThan(0);
  });

  it("stays within the period, invoice numbers rising with time", () => {
    const start = Date.parse("2025-01-01T00:00:00Z");
    const end = Date.parse("2026-01-01T00:00:00Z");
    let previous = { number: 0, at: 0 };
    for (const row of rows) {
      const at = time(row);
      expect(at).toBeGreaterThanOrEqual(start);
      expect(at).toBeLessThan(end);
      const number = Number(row.InvoiceNo.replace(/^C/, ""));
      expect(number).toBeGreaterThanOrEqual(previous.number);
      if (number > previous.number) expect(at).toBeGreaterThanOrEqual(previous.at);
      previous = { number, at };
    }
  });

  it("returns only what the customer bought before, at most as many", () => {
    const bought = new Map<string, number>();
    for (const row of rows) {
      if (nonProductLabel(row.StockCode) !== null) continue;
      const key = `${row.CustomerID.replace(/\.0$/, "")}|${row.StockCode.toUpperCase()}`;
      const quantity = Number(row.Quantity);
      if (quantity > 0) bought.set(key, (bought.get(key) ?? 0) + quantity);
      else {
        expect(row.InvoiceNo.startsWith("C")).toBe(true);
        expect(bought.get(key) ?? 0).toBeGreaterThanOrEqual(-quantity);
      }
    }
  });

  it("peaks in the fourth quarter and is quiet on Saturdays", () => {
    const perMonth = new Array<number>(12).fill(0);
    const perWeekday = new Array<number>(7).fill(0);
    for (const order of plan.orders) {
      const date = new Date(order.at);
      perMonth[date.getUTCMonth()] = (perMonth[date.getUTCMonth()] ?? 0) + 1;
      perWeekday[date.getUTCDay()] = (perWeekday[date.getUTCDay()] ?? 0) + 1;
    }
    const spring = ((perMonth[1] ?? 0) + (perMonth[2] ?? 0) + (perMonth[3] ?? 0)) / 3;
    expect(perMonth[10]).toBeGreaterThan(spring * 1.4);
    expect(Math.min(...perWeekday)).toBe(perWeekday[6]);
  });

  it("gives customers very different purchase rates", () => {
    const perCustomer = new Map<string, number>();
    for (const order of plan.orders) {
      if (order.customerExternalId)
        perCustomer.set(order.customerExternalId, (perCustomer.get(order.customerExternalId) ?? 0) + 1);
    }
    const counts = [...perCustomer.values()].sort((a, b) => b - a);
    const total = counts.reduce((sum, n) => sum + n, 0);
    const top = counts.slice(0, counts.length / 10).reduce((sum, n) => sum + n, 0);
    expect(top / total).toBeGreaterThan(0.3);
    expect(counts.filter((n) => n === 1).length).toBeGreaterThan(counts.length * 0.1);
  });

  it("lets customers lapse, and who lapses shows in ordinary behaviour: recency", () => {
    // Customers seen in the first nine months: do they buy again in the last three? Those who
    // bought recently should far more often than those who have not bought for months.
    const cut = Date.parse("2025-10-01T00:00:00Z");
    const last = new Map<string, number>();
    const after = new Set<string>();
    for (const order of plan.orders) {
      if (!order.customerExternalId) continue;
      if (order.at < cut)
        last.set(order.customerExternalId, Math.max(last.get(order.customerExternalId) ?? 0, order.at));
      else after.add(order.customerExternalId);
    }
    const rate = (test: (recencyDays: number) => boolean) => {
      const group = [...last].filter(([, at]) => test((cut - at) / DAY));
      return group.filter(([id]) => after.has(id)).length / group.length;
    };
    const recent = rate((days) => days <= 30);
    const lapsed = rate((days) => days > 120);
    expect(recent).toBeGreaterThan(0.5);
    expect(lapsed).toBeLessThan(recent - 0.25);
    // Some customers never come back at all.
    expect([...last.keys()].filter((id) => !after.has(id)).length).toBeGreaterThan(last.size * 0.2);
  });

  it("writes the same records as CSV text, quoted where needed", async () => {
    const small: HistoryOptions = { customers: 40, months: 2, seed: 3 };
    const fromText = await readInvoiceLines(Readable.from(historyCsvChunks(small)), 2);
    expect(fromText).toEqual(read(historyRows(small)));
    expect(csvField('SET OF 3, "BIG"')).toBe('"SET OF 3, ""BIG"""');
    expect(csvField("PLAIN")).toBe("PLAIN");
  });

  it("writes M/D/YYYY H:MM dates when asked, read back to the same minutes", () => {
    const iso = read(historyRows({ customers: 30, months: 1, seed: 4 }));
    const us = read(historyRows({ customers: 30, months: 1, seed: 4, dateFormat: "us" }));
    expect(us.stats.malformed.size).toBe(0);
    expect(us.plan.orders).toEqual(iso.plan.orders);
  });

  it("builds baskets from the given catalog, mostly within a customer's groups", () => {
    const catalog: CatalogProduct[] = Array.from({ length: 200 }, (_, n) => ({
      sku: `SKU-${String(n).padStart(5, "0")}`,
      name: `Product ${n}`,
      unitPrice: 1_000 + n,
      group: `g${n % 10}`,
    }));
    const group = new Map(catalog.map((product) => [product.sku, product.group]));
    const history = read(historyRows({ customers: 100, months: 6, seed: 9, catalog, basketLines: 6 }));
    expect(history.plan.products.every((product) => group.has(product.sku))).toBe(true);
    expect(history.plan.products.find((product) => product.sku === "SKU-00007")).toMatchObject({
      unitPrice: 1_007,
    });
    let inTopGroups = 0;
    let lines = 0;
    for (const order of history.plan.orders) {
      if (!order.customerExternalId) continue;
      const perGroup = new Map<string, number>();
      for (const line of order.lines)
        perGroup.set(group.get(line.sku) ?? "", (perGroup.get(group.get(line.sku) ?? "") ?? 0) + 1);
      inTopGroups += [...perGroup.values()]
        .sort((a, b) => b - a)
        .slice(0, 3)
        .reduce((sum, n) => sum + n, 0);
      lines += order.lines.length;
    }
    // Ten equally likely groups: by chance the top three of a 6-line basket would hold far less.
    expect(inTopGroups / lines).toBeGreaterThan(0.85);
  });

  it("refuses a start that is not a date", () => {
    expect(() => [...historyRows({ start: "2025-13-45" })]).toThrow(/YYYY-MM-DD/);
  });
});

describe("the demo history", () => {
  it("covers the 8 months up to yesterday over the demo catalog's active products", () => {
    const options = demoHistoryOptions(new Date("2026-12-03T13:00:00Z"));
    expect(options.start).toBe("2026-04-03");
    const history = demoHistoryPlan(options);
    const active = new Set(
      demoProducts()
        .filter((p) => p.status === "ACTIVE")
        .map((p) => p.sku),
    );
    expect(history.products.length).toBeGreaterThan(100);
    expect(history.products.every((product) => active.has(product.sku))).toBe(true);
    const times = history.orders.map((order) => order.at);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(Date.parse("2026-04-03T00:00:00Z"));
    expect(Math.max(...times)).toBeLessThan(Date.parse("2026-12-03T00:00:00Z"));
    expect(Math.max(...times)).toBeGreaterThan(Date.parse("2026-11-25T00:00:00Z"));
    expect(history.customers.length).toBeGreaterThan(250);
    expect(history.returns.length).toBeGreaterThan(0);
    // Single items (1 to 3, one more where a product appears twice on an invoice), not packs.
    expect(history.orders.every((order) => order.lines.every((line) => line.quantity <= 4))).toBe(true);
  });

  it("is the same history on the same day", () => {
    const today = new Date("2026-12-03T08:00:00Z");
    expect(demoHistoryPlan(demoHistoryOptions(today))).toEqual(demoHistoryPlan(demoHistoryOptions(today)));
  });
});
