import { afterEach, describe, expect, it } from "vitest";
import { historyRows } from "../history/generate.ts";
import {
  fixedToken,
  forEachConcurrently,
  ImportRequestError,
  importPlan,
  rejectedIndexes,
  signIn,
} from "./client.ts";
import { COLUMNS } from "./lines.ts";
import { readRecords } from "./read.ts";
import { closeStandIns, standIn } from "./stand-in.ts";

afterEach(closeStandIns);

function smallHistory() {
  const records = (function* () {
    yield [...COLUMNS];
    for (const row of historyRows({ customers: 60, months: 3, seed: 5, products: 400 })) {
      yield COLUMNS.map((column) => row[column]);
    }
  })();
  return readRecords(records, 2).plan;
}

describe("importPlan", () => {
  it("loads everything in batches under the limits, returns after every order, and nothing twice", async () => {
    const stub = standIn();
    const endpoint = await stub.start();
    const plan = smallHistory();
    const options = { endpoint, tokens: fixedToken("t0k3n"), currencyCode: "GBP", concurrency: 3 };
    const first = await importPlan(plan, options);
    expect(first.products).toEqual({ created: plan.products.length, existing: 0, failed: 0 });
    expect(first.customers).toEqual({ created: plan.customers.length, existing: 0, failed: 0 });
    expect(first.orders).toEqual({ created: plan.orders.length, existing: 0, failed: 0 });
    expect(first.returns).toEqual({ created: plan.returns.length, existing: 0, failed: 0 });
    expect(plan.returns.length).toBeGreaterThan(0);

    const operations = stub.received.map((request) => request.operation);
    expect(operations.indexOf("importCustomers")).toBeGreaterThan(operations.lastIndexOf("importProducts"));
    expect(operations.indexOf("importOrders")).toBeGreaterThan(operations.lastIndexOf("importCustomers"));
    const orderRequests = stub.received.filter((request) => request.operation === "importOrders");
    const lastOrders = orderRequests.findLastIndex((request) => (request.input.orders ?? []).length > 0);
    const firstReturns = orderRequests.findIndex((request) => (request.input.returns ?? []).length > 0);
    expect(firstReturns).toBeGreaterThan(lastOrders);
    expect(orderRequests.length).toBeGreaterThan(2);
    for (const request of stub.received) {
      expect(request.bytes).toBeLessThanOrEqual(120 * 1024);
      expect(request.authorization).toBe("Bearer t0k3n");
      for (const list of Object.values(request.input)) expect(list.length).toBeLessThanOrEqual(1_000);
    }
    expect(stub.maxInFlight()).toBeLessThanOrEqual(3);
    expect(stub.maxInFlight()).toBeGreaterThan(1);

    const sentOrder = orderRequests[0]?.input.orders?.[0] as Record<string, unknown>;
    expect(sentOrder).toMatchObject({ currencyCode: "GBP", externalId: plan.orders[0]?.externalId });
    expect(sentOrder.placedAt).toBe(new Date(plan.orders[0]?.at ?? 0).toISOString());

    const again = await importPlan(plan, options);
    for (const kind of ["products", "customers", "orders", "returns"] as const) {
      expect(again[kind].created).toBe(0);
      expect(again[kind].failed).toBe(0);
    }
    expect(again.orders.existing).toBe(plan.orders.length);
  });

  it("waits out a rate limit (429 with Retry-After) and goes on", async () => {
    const stub = standIn({ refuseFirst: 2 });
    const endpoint = await stub.start();
    const plan = smallHistory();
    const started = Date.now();
    const outcome = await importPlan(
      { ...plan, orders: plan.orders.slice(0, 3), returns: [] },
      { endpoint, tokens: fixedToken("t"), currencyCode: "GBP", concurrency: 1 },
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    expect(outcome.orders.created).toBe(3);
  });

  it("stops on a GraphQL error such as a missing scope", async () => {
    const endpoint = await standIn({ errors: true }).start();
    await expect(
      importPlan(smallHistory(), { endpoint, tokens: fixedToken("t"), currencyCode: "GBP" }),
    ).rejects.toThrow(ImportRequestError);
  });

  it("does not send an invoice whose products did not import, and counts it failed", async () => {
    const stub = standIn();
    const endpoint = await stub.start();
    const plan = smallHistory();
    const outcome = await importPlan(
      { ...plan, products: plan.products.slice(1) },
      { endpoint, tokens: fixedToken("t"), currencyCode: "GBP" },
    );
    const missing = plan.products[0]?.sku;
    const expected = plan.orders.filter((order) => order.lines.some((line) => line.sku === missing)).length;
    expect(expected).toBeGreaterThan(0);
    expect(outcome.orders.failed).toBe(expected);
    expect(outcome.orders.created).toBe(plan.orders.length - expected);
  });
});

describe("importPlan with invalid items", () => {
  it("sends a refused batch again without the items its user errors name, and skips what needed them", async () => {
    const stub = standIn({ refuseSku: "REFUSED-1" });
    const endpoint = await stub.start();
    const plan = smallHistory();
    const refused = plan.products[3]?.sku ?? "";
    const renamed = {
      ...plan,
      products: plan.products.map((product) =>
        product.sku === refused ? { ...product, sku: "REFUSED-1" } : product,
      ),
    };
    const outcome = await importPlan(renamed, { endpoint, tokens: fixedToken("t"), currencyCode: "GBP" });
    expect(outcome.products).toEqual({ created: plan.products.length - 1, existing: 0, failed: 1 });
    const needing = plan.orders.filter((order) => order.lines.some((line) => line.sku === refused)).length;
    expect(needing).toBeGreaterThan(0);
    expect(outcome.orders.failed).toBe(needing);
    expect(outcome.userErrors[0]).toContain("INVALID_SKU");
    const productCalls = stub.received.filter((request) => request.operation === "importProducts");
    // 400-odd products fit one call; the refused call and the call again without the bad one.
    expect(productCalls).toHaveLength(2);
  });

  it("does not send an invoice with more lines than an invoice may have, nor one whose total does not fit", async () => {
    const stub = standIn();
    const endpoint = await stub.start();
    const plan = smallHistory();
    const order = plan.orders[0];
    if (!order) throw new Error("the history has orders");
    const line = order.lines[0] ?? { sku: "", quantity: 1, unitPrice: 1 };
    const big = { ...order, externalId: "BIG", lines: Array.from({ length: 1_001 }, () => line) };
    const dear = {
      ...order,
      externalId: "DEAR",
      lines: [{ ...line, quantity: 100_000, unitPrice: 100_000 }],
    };
    const outcome = await importPlan(
      { ...plan, orders: [big, dear, order], returns: [] },
      { endpoint, tokens: fixedToken("t"), currencyCode: "GBP" },
    );
    expect(outcome.orders).toEqual({ created: 1, existing: 0, failed: 2 });
    const sent = stub.received.flatMap((request) => (request.input.orders ?? []) as { externalId: string }[]);
    expect(sent.map((item) => item.externalId)).toEqual([order.externalId]);
  });
});

describe("rejectedIndexes", () => {
  it("reads the items' indexes from the user errors' field paths", () => {
    const errors = [
      { field: ["input", "orders", "3", "lines", "0", "quantity"], message: "", code: "INVALID_QUANTITY" },
      { field: ["input", "orders", "7", "externalId"], message: "", code: "DUPLICATE_EXTERNAL_ID" },
      { field: ["input", "returns", "1"], message: "", code: "NO_LINES" },
      { field: ["input", "orders"], message: "", code: "TOO_MANY_ORDERS" },
      { field: null, message: "", code: "X" },
    ];
    expect(rejectedIndexes(errors, "orders")).toEqual(new Set([3, 7]));
    expect(rejectedIndexes(errors, "returns")).toEqual(new Set([1]));
    expect(rejectedIndexes(errors, "products")).toEqual(new Set());
  });
});

describe("signIn", () => {
  it("signs in and renews the access token through the refresh token once it is old", async () => {
    const endpoint = await standIn().start();
    const realNow = Date.now;
    try {
      const tokens = await signIn(endpoint, "ops@example.com", "secret");
      expect(await tokens.token()).toBe("access-1");
      Date.now = () => realNow() + 11 * 60_000;
      expect(await tokens.token()).toBe("access-2");
      expect(await tokens.token()).toBe("access-2");
    } finally {
      Date.now = realNow;
    }
  });
});

describe("forEachConcurrently", () => {
  it("runs at most `limit` at once and stops starting work after a failure", async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    await expect(
      forEachConcurrently([1, 2, 3, 4, 5, 6, 7, 8], 2, async (n) => {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        if (n === 3) throw new Error("three");
        done.push(n);
      }),
    ).rejects.toThrow("three");
    expect(most).toBe(2);
    expect(done).not.toContain(6);
  });
});
