/**
 * The example storefront's journey against the whole supergraph in this process (the stack
 * e2e/ uses), with the demo data seeded and the demo store set up as `pnpm start` does: every
 * step's typed result, the totals adding up from the lines, and the order reaching CONFIRMED.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { rawId, until } from "@nexus/testing";
import { seedDemoStore } from "@nexus/tools/demo-store";
import { type Stack, startStack } from "@nexus/tools/stack";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Cart } from "./cart.ts";
import { checkout } from "./checkout.ts";
import { createClient, type StorefrontClient } from "./client.ts";
import { CLIENT_NAME, CLIENT_VERSION, DEMO_ADDRESS, DEMO_CUSTOMER } from "./defaults.ts";
import { runStorefront, type StorefrontOptions, type StorefrontStep } from "./flow.ts";

let stack: Stack;
let client: StorefrontClient;

const OPTIONS: Omit<StorefrontOptions, "identity"> = {
  categorySlug: "electronics",
  pageSize: 3,
  pages: 2,
  quantity: 2,
  address: DEMO_ADDRESS,
  followTimeoutMs: 20_000,
};

beforeAll(async () => {
  // A guest checkout is off unless the store allows it; this store does, for the guest's journey.
  stack = await startStack({
    mongoUrl: inject("mongoUrl"),
    env: { OUTBOX_POLL_MS: "100", GUEST_CHECKOUT: "true" },
  });
  const admin = await stack.auth.bearer(randomUUID(), "ADMIN");
  expect(await seedDemoStore(stack.endpoint, admin.replace(/^Bearer /, ""))).toBe(true);
  client = createClient({ endpoint: stack.endpoint, name: CLIENT_NAME, version: CLIENT_VERSION });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

/** What the cart and the order must agree on, and how the total is made of the rest. */
function expectTotalsAddUp(cart: Cart) {
  const lineSum = cart.lines.reduce((sum, line) => sum + (line.lineTotal?.amount ?? 0), 0);
  expect(cart.subtotal.amount).toBe(lineSum);
  const tax = cart.pricesIncludeTax ? 0 : cart.taxTotal.amount;
  expect(cart.total.amount).toBe(
    cart.subtotal.amount - cart.discountTotal.amount + cart.shippingTotal.amount + tax,
  );
}

describe("the example storefront through the gateway", () => {
  it("browses a category page by page, shows a product, and a signed-in customer's order reaches CONFIRMED", async () => {
    const steps: StorefrontStep[] = [];
    const run = await runStorefront(
      client,
      { ...OPTIONS, identity: { kind: "customer", ...DEMO_CUSTOMER } },
      (step) => steps.push(step),
    );

    // Two pages of three, newest first, no product twice; more of the category beyond them.
    const { listing } = run;
    expect(listing.category.path).toBe("electronics");
    expect(listing.pages.map((page) => page.length)).toEqual([3, 3]);
    const ids = listing.pages.flat().map((product) => product.id);
    expect(new Set(ids).size).toBe(6);
    expect(listing.totalCount).toBeGreaterThan(6);
    expect(listing.hasMore).toBe(true);

    // The product page: the first in-stock product of the listing, its price, stock and reviews.
    const listed = listing.pages.flat().find((product) => product.inventory.inStock);
    expect(run.product.id).toBe(listed?.id);
    expect(run.product.price).toEqual(listed?.price);
    expect(run.product.inventory.available).toBeGreaterThanOrEqual(OPTIONS.quantity);
    expect(run.product.reviews.edges).toHaveLength(Math.min(3, run.product.reviews.totalCount));
    expect(run.product.rating.count).toBe(run.product.reviews.totalCount);

    expect(run.shopper).toMatchObject({ kind: "customer", name: "Demo Customer" });

    // The demo store ships to the US two ways; the cheaper one, and California's sales tax.
    const shipping = steps.find((step) => step.step === "shipping");
    expect(shipping?.options.map((option) => option.name).sort()).toEqual([
      "Express (1–2 days)",
      "Standard (3–5 days)",
    ]);
    expect(shipping?.chosen?.name).toBe("Standard (3–5 days)");
    const { cart } = run;
    expect(cart.lines).toEqual([
      expect.objectContaining({ productId: run.product.id, quantity: 2, unitPrice: run.product.price }),
    ]);
    expect(cart.lines[0]?.lineTotal?.amount).toBe(2 * run.product.price.amount);
    expect(cart.shippingMethod?.name).toBe("Standard (3–5 days)");
    expect(cart.taxTotal.amount).toBeGreaterThan(0);
    expectTotalsAddUp(cart);

    // Checkout charges exactly what the cart showed.
    const { order } = run;
    for (const key of ["subtotal", "discountTotal", "shippingTotal", "taxTotal", "total"] as const) {
      expect(order[key]).toEqual(cart[key]);
    }
    expect(order.lines).toEqual([
      { productName: run.product.name, quantity: 2, lineTotal: cart.lines[0]?.lineTotal },
    ]);

    // Followed to CONFIRMED, paid in full.
    expect(run.followed?.id).toBe(order.id);
    expect(run.followed?.status).toBe("CONFIRMED");
    expect(run.followed?.payment).toMatchObject({ status: "CAPTURED", amount: order.total });
    expect(run.followed?.statusHistory.map((change) => change.status)).toEqual(["PENDING", "CONFIRMED"]);
    expect(steps.map((step) => step.step)).toEqual([
      "category",
      "product",
      "shopper",
      "cart",
      "shipping",
      "priced-cart",
      "checkout",
      ...steps.slice(7).map(() => "order-status"),
    ]);
    expect(steps.at(-1)).toMatchObject({ step: "order-status", order: { status: "CONFIRMED" } });

    // A retry of the same purchase (same key) gets the same order back, not a second one.
    const checkoutStep = steps.find((step) => step.step === "checkout");
    if (run.shopper.kind !== "customer" || !checkoutStep) throw new Error("signed in, with a checkout step");
    const retried = await checkout(client, run.shopper, { idempotencyKey: checkoutStep.idempotencyKey });
    expect(retried.id).toBe(order.id);
  });

  it("checks a guest's cart out with an email; the guest cannot follow it, the store confirms it", async () => {
    const email = `guest-${randomUUID().slice(0, 8)}@example.com`;
    const steps: StorefrontStep[] = [];
    const run = await runStorefront(
      client,
      { ...OPTIONS, pages: 1, quantity: 1, identity: { kind: "guest", email } },
      (step) => steps.push(step),
    );
    expect(run.shopper).toMatchObject({ kind: "guest", email, cartToken: expect.any(String) });
    expect(run.cart.lines).toHaveLength(1);
    expectTotalsAddUp(run.cart);
    expect(run.order.total).toEqual(run.cart.total);
    expect(run.followed).toBeNull();
    expect(steps.at(-1)).toMatchObject({ step: "not-followed" });

    const settled = await until("the guest order to settle", async () => {
      const row = await stack.ordersDb
        .selectFrom("orders")
        .select(["status", "guest_email"])
        .where("id", "=", rawId(run.order.id))
        .executeTakeFirst();
      return row?.status !== "PENDING" && row;
    });
    expect(settled).toEqual({ status: "CONFIRMED", guest_email: email });
  });

  it("retries a checkout whose answer was lost with the same key: one order, followed to CONFIRMED", async () => {
    // The network drops the first Checkout's response after the gateway has carried it out.
    let checkouts = 0;
    const lossy: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (
        typeof init?.body === "string" &&
        init.body.includes('"operationName":"Checkout"') &&
        ++checkouts === 1
      ) {
        throw new TypeError("fetch failed", { cause: new Error("socket hang up") });
      }
      return response;
    };
    const steps: StorefrontStep[] = [];
    const run = await runStorefront(
      createClient({ endpoint: stack.endpoint, name: CLIENT_NAME, version: CLIENT_VERSION, fetch: lossy }),
      { ...OPTIONS, pages: 1, quantity: 1, identity: { kind: "customer", ...DEMO_CUSTOMER } },
      (step) => steps.push(step),
    );
    expect(checkouts).toBe(2);
    expect(run.followed?.status).toBe("CONFIRMED");
    const checkoutStep = steps.find((step) => step.step === "checkout");
    const orders = await stack.ordersDb
      .selectFrom("idempotency_keys")
      .select("order_id")
      .where("key", "=", checkoutStep?.idempotencyKey ?? "")
      .execute();
    expect(orders).toEqual([{ order_id: rawId(run.order.id) }]);
  });

  it("runs from the command line against a gateway URL, printing each step", async () => {
    const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));
    // Asynchronously: the gateway it calls runs in this process.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [cli, "--gateway", stack.endpoint, "--category", "books", "--pages", "1"],
      { timeout: 20_000 },
    );
    expect(stdout).toContain(`Storefront against ${stack.endpoint}`);
    expect(stdout).toMatch(/^Category Books \(books\): \d+ products$/m);
    expect(stdout).toContain("Signed in as Demo Customer");
    expect(stdout).toMatch(
      /^Shipping: Standard \(3–5 days\) \(United States\), \$\d+\.\d\d — cheapest of 2$/m,
    );
    expect(stdout).toMatch(/^ {2}total \$\d+\.\d\d$/m);
    expect(stdout).toMatch(/^Order gid:\/\/nexus\/Order\/[0-9a-f-]{36} is CONFIRMED, payment CAPTURED$/m);
  });

  it("refuses a bad gateway URL before any request", () => {
    const named = { name: CLIENT_NAME, version: CLIENT_VERSION };
    expect(() => createClient({ endpoint: "localhost:4000", ...named })).toThrow(/http or https/);
    expect(() => createClient({ endpoint: "not a url", ...named })).toThrow(/absolute http\(s\) URL/);
    expect(() => createClient({ endpoint: stack.endpoint, name: " ", version: "1" })).toThrow(/a name/);
  });
});
