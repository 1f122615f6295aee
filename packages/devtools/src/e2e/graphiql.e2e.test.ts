/**
 * GraphiQL in a real browser: Debian's Chromium, headless, driven by playwright-core, against
 * the whole stack with GRAPHIQL=admin. The sign-in goes through the real users subgraph with
 * the demo accounts; the query runs through the gateway and its result shows in the result
 * pane. Access tokens live 62 s here, so the page's refresh runs too. The page must load nothing from anywhere but the gateway and break none of its own
 * Content-Security-Policy. Leaves test-results/graphiql.png behind to look at.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEMO_ACCOUNTS } from "@nexus/demo";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { type Stack, startStack } from "./stack.ts";

const CHROMIUM = "/usr/bin/chromium";
/** Without the background-networking flags Chromium keeps calling home, which this network refuses. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
const RESULTS_DIR = fileURLToPath(new URL("../../../../test-results/", import.meta.url));
const SCREENSHOT = join(RESULTS_DIR, "graphiql.png");

const account = (role: "ADMIN" | "CUSTOMER") => {
  const found = DEMO_ACCOUNTS.find((demo) => demo.role === role);
  if (!found) throw new Error(`no demo ${role} account`);
  return found;
};

let stack: Stack;
let origin = "";
let profile = "";
let context: BrowserContext;
let page: Page;
const requests: string[] = [];
/** Console errors: a blocked resource or a Content-Security-Policy violation shows up here. */
const consoleErrors: string[] = [];
const pageErrors: string[] = [];
/** The operations the page posted to the gateway, by name, with the HTTP status of the answer. */
const operations: { name: string; status: number }[] = [];

/** Set when there is no browser: then every test fails with it, and none is skipped. */
const noChromium = existsSync(CHROMIUM)
  ? null
  : `Chromium is not installed at ${CHROMIUM}: this test needs a real browser. ` +
    "Install it with `apt-get install -y chromium` (.ci/run does so before the tests).";

beforeEach(() => {
  if (noChromium) throw new Error(noChromium);
});

beforeAll(async () => {
  if (noChromium) return;
  stack = await startStack({
    mongoUrl: inject("mongoUrl"),
    // The shortest access tokens the users subgraph issues: the page refreshes them a minute
    // before they expire, so here within seconds of signing in.
    env: { GRAPHIQL: "admin", ACCESS_TOKEN_TTL_SECONDS: "62" },
  });
  origin = new URL(stack.endpoint).origin;
  profile = mkdtempSync(join(tmpdir(), "nexus-graphiql-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 900 },
  });
  context.on("request", (request) => {
    requests.push(request.url());
  });
  context.on("response", async (response) => {
    const request = response.request();
    if (request.method() !== "POST" || !request.url().endsWith("/graphql")) return;
    const body = JSON.parse(request.postData() ?? "{}") as { operationName?: string; query?: string };
    const name =
      body.operationName ?? /(?:query|mutation)\s+(\w+)/.exec(body.query ?? "")?.[1] ?? "anonymous";
    operations.push({ name, status: response.status() });
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => {
    pageErrors.push(error.message);
  });
}, 180_000);

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await stack?.stop();
});

async function signIn(email: string, password: string) {
  await page.fill("#nx-login-form input[name=email]", email);
  await page.fill("#nx-login-form input[name=password]", password);
  await page.click("#nx-login-form button[type=submit]");
}

/** The result pane's text, read from its CodeMirror instance (the DOM holds only visible lines). */
const resultText = () =>
  page
    .locator(".graphiql-response .CodeMirror")
    .evaluate(
      (element) =>
        (element as unknown as { CodeMirror?: { getValue(): string } }).CodeMirror?.getValue() ?? "",
      undefined,
      { timeout: 1_000 },
    );

interface LowStock {
  lowStockProducts: { totalCount: number; edges: { node: { inventory: { onHand: number | null } } }[] };
}

/**
 * Runs a preloaded example from its tab and returns the data shown in the result pane, once
 * the answer to this run (not an earlier one) is there.
 */
async function runExample(tab: string): Promise<LowStock> {
  const before = operations.length;
  await page.locator(".graphiql-tab-button", { hasText: new RegExp(`^${tab}$`) }).click();
  // GraphiQL takes the operation name from the editor 100 ms after it changes: a run sent
  // sooner would name the previous tab's operation.
  await expect.poll(() => page.evaluate(() => localStorage.getItem("graphiql:operationName"))).toBe(tab);
  await page.click(".graphiql-execute-button");
  await expect
    .poll(() => operations.slice(before).find((operation) => operation.name === tab))
    .toEqual({
      name: tab,
      status: 200,
    });
  await expect.poll(resultText, { timeout: 15_000 }).toContain('"lowStockProducts"');
  const result = JSON.parse(await resultText()) as { data?: LowStock; errors?: unknown[] };
  expect(result.errors).toBeUndefined();
  if (!result.data) throw new Error("no data in the result pane");
  // `onHand` needs inventory:read: it is there because the request carried an admin's token.
  for (const edge of result.data.lowStockProducts.edges)
    expect(typeof edge.node.inventory.onHand).toBe("number");
  return result.data;
}

describe("GraphiQL in Chromium, with GRAPHIQL=admin", () => {
  it("asks for a sign-in before it shows anything, and turns a customer away", async () => {
    await page.goto(`${origin}/graphiql`);
    await page.waitForSelector("#nx-sign-in", { state: "visible" });
    expect(await page.locator(".graphiql-container").count()).toBe(0);

    const customer = account("CUSTOMER");
    await signIn(customer.email, customer.password);
    await expect
      .poll(() => page.textContent("#nx-sign-in-error"))
      .toBe(`This GraphiQL is for admins: ${customer.email} is a CUSTOMER account.`);
    expect(await page.textContent("#nx-viewer")).toBe("Not signed in");
    expect(await page.locator(".graphiql-container").count()).toBe(0);
  });

  it("signs an admin in, loads the schema as the admin, runs a query and shows its result", async () => {
    const admin = account("ADMIN");
    await signIn(admin.email, admin.password);
    await page.waitForSelector(".graphiql-container");
    expect(await page.textContent("#nx-viewer")).toBe(`Signed in as ${admin.email} (ADMIN)`);
    expect(await page.isVisible("#nx-sign-in")).toBe(false);
    // GraphiQL introspected with the admin's token (anonymous introspection is refused here).
    await expect
      .poll(() => operations.find((operation) => operation.name === "IntrospectionQuery"))
      .toEqual({
        name: "IntrospectionQuery",
        status: 200,
      });

    // The preloaded admin example, run from its tab; the result pane shows the data.
    const result = await runExample("LowStockProducts");
    expect(result.lowStockProducts.totalCount).toBeGreaterThan(0);
    expect(await page.isVisible(".graphiql-response")).toBe(true);

    mkdirSync(RESULTS_DIR, { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });

  it("refreshes the access token before it expires, and goes on with the new one", async () => {
    await expect
      .poll(() => operations.some((operation) => operation.name === "GraphiqlRefresh"), { timeout: 10_000 })
      .toBe(true);
    expect(operations.filter((operation) => operation.name === "GraphiqlRefresh")).toContainEqual({
      name: "GraphiqlRefresh",
      status: 200,
    });
    await runExample("LowStockProducts");
    expect(await page.textContent("#nx-viewer")).toBe(`Signed in as ${account("ADMIN").email} (ADMIN)`);
  });

  it("signs out: the sign-in is ended at the users subgraph and asked for again", async () => {
    await page.click("#nx-sign-out");
    await page.waitForSelector("#nx-sign-in", { state: "visible" });
    expect(await page.locator(".graphiql-container").count()).toBe(0);
    await expect.poll(() => operations.at(-1)).toEqual({ name: "GraphiqlSignOut", status: 200 });
  });

  it("takes a pasted admin token instead of a password, and refuses a customer's", async () => {
    await page.click(".nx-token summary");
    await page.fill(
      "#nx-token-form textarea",
      await stack.auth.bearer("00000000-0000-4000-8000-000000000001"),
    );
    await page.click("#nx-token-form button[type=submit]");
    await expect
      .poll(() => page.textContent("#nx-sign-in-error"))
      .toBe("This GraphiQL is for admins: that token is for role CUSTOMER.");

    await page.fill(
      "#nx-token-form textarea",
      await stack.auth.bearer("00000000-0000-4000-8000-000000000002", "ADMIN"),
    );
    await page.click("#nx-token-form button[type=submit]");
    await page.waitForSelector(".graphiql-container");
    expect(await page.textContent("#nx-viewer")).toBe(
      "Signed in as token for 00000000-0000-4000-8000-000000000002 (ADMIN)",
    );
    await runExample("LowStockProducts");
  });

  it("made no request outside the gateway's origin, and broke none of its policy", () => {
    expect(requests.length).toBeGreaterThan(5);
    expect(requests.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
