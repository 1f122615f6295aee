import { demoProducts } from "@nexus/catalog/demo";
import { afterEach, describe, expect, it } from "vitest";
import { closeStandIns, standIn } from "../import/stand-in.ts";
import { demoHistoryOptions, demoHistoryPlan, seedDemoHistory } from "./seed-demo.ts";

afterEach(closeStandIns);

const today = new Date("2026-12-03T13:00:00Z");

describe("seedDemoHistory", () => {
  it("loads the demo history once; a later start sends the newest order alone and stops", async () => {
    const stub = standIn();
    const endpoint = await stub.start();
    const plan = demoHistoryPlan(demoHistoryOptions(today));
    const first = await seedDemoHistory(endpoint, "admin-token", { today });
    expect(first.seeded).toBe(true);
    if (!first.seeded) return;
    expect(first.outcome.orders).toEqual({ created: plan.orders.length, existing: 0, failed: 0 });
    expect(first.outcome.returns).toEqual({ created: plan.returns.length, existing: 0, failed: 0 });
    expect(stub.received.every((request) => request.authorization === "Bearer admin-token")).toBe(true);

    const before = stub.received.length;
    const again = await seedDemoHistory(endpoint, "admin-token", { today });
    expect(again).toEqual({ seeded: false, reason: "already-loaded" });
    const orderCalls = stub.received.slice(before).filter((request) => request.operation === "importOrders");
    expect(orderCalls).toHaveLength(1);
    expect(orderCalls[0]?.input.orders).toHaveLength(1);
  });

  it("prices the demo history in the store currency, with the catalog's own amounts", async () => {
    const stub = standIn();
    const endpoint = await stub.start();
    const plan = demoHistoryPlan(demoHistoryOptions(today));
    expect((await seedDemoHistory(endpoint, "admin-token", { today, currencyCode: "JPY" })).seeded).toBe(
      true,
    );
    const products = stub.received
      .filter((request) => request.operation === "importProducts")
      .flatMap((request) => request.input.products as { sku: string; price: unknown }[]);
    expect(products).toHaveLength(plan.products.length);
    const planned = new Map(plan.products.map((product) => [product.sku, product.unitPrice]));
    for (const product of products) {
      expect(product.price).toEqual({ amount: planned.get(product.sku), currencyCode: "JPY" });
    }
    const catalogPrices = new Map(demoProducts().map((product) => [product.sku, product.price]));
    expect(plan.products.every((product) => product.unitPrice === catalogPrices.get(product.sku))).toBe(true);
  });

  it("sends nothing when the store has imported a history of its own", async () => {
    const stub = standIn({ importedCategory: true });
    const endpoint = await stub.start();
    expect(await seedDemoHistory(endpoint, "admin-token", { today })).toEqual({
      seeded: false,
      reason: "store-history",
    });
    expect(stub.received.map((request) => request.operation)).toEqual(["category"]);
  });
});
