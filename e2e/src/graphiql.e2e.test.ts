/**
 * GraphiQL in a real browser: Debian's Chromium, headless, driven by playwright-core, against
 * the whole stack with GRAPHIQL=admin, and a second gateway in front of the same subgraphs
 * with GRAPHIQL=on. The sign-in goes through the real users subgraph with the demo accounts;
 * queries run through the gateway and their results show in the result pane. Access tokens
 * live 62 s here, so the page's refresh runs too. The page must load nothing from anywhere but
 * the gateway and break none of its own Content-Security-Policy. Leaves
 * test-results/graphiql.png behind to look at.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger } from "@nexus/core";
import { loadConfig as loadGatewayConfig, type RunningGateway, startGateway } from "@nexus/gateway";
import { testRedisPrefix } from "@nexus/testing";
import { type Stack, startStack } from "@nexus/tools/stack";
import { DEMO_ACCOUNTS } from "@nexus/users/demo";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";

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
const RESULTS_DIR = fileURLToPath(new URL("../../test-results/", import.meta.url));
const SCREENSHOT = join(RESULTS_DIR, "graphiql.png");

const account = (role: "ADMIN" | "CUSTOMER") => {
  const found = DEMO_ACCOUNTS.find((demo) => demo.role === role);
  if (!found) throw new Error(`no demo ${role} account`);
  return found;
};

let stack: Stack;
/** The stack's own gateway, GRAPHIQL=admin. */
let origin = "";
/** A second gateway in front of the same subgraphs, GRAPHIQL=on. */
let open: RunningGateway;
let openOrigin = "";
let profile = "";
let context: BrowserContext;
let page: Page;
/** Each request a page made, with the origin of the gateway that served the page. */
const requests: { pageOrigin: string; url: string }[] = [];
/** Console errors: a blocked resource or a Content-Security-Policy violation shows up here. */
const consoleErrors: string[] = [];
const pageErrors: string[] = [];
/** The operations the pages posted to a gateway, by name, with the HTTP status of the answer. */
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
  open = await startGateway(
    loadGatewayConfig({
      HOST: "127.0.0.1",
      GATEWAY_PORT: "0",
      LOG_LEVEL: "silent",
      GRAPHIQL: "on",
      GATEWAY_REDIS_PREFIX: testRedisPrefix("graphiql-e2e"),
      SUBGRAPH_SECRET: stack.subgraphSecret,
      JWKS_URL: stack.subgraphUrls.users.replace(/\/graphql$/, "/.well-known/jwks.json"),
      JWT_ISSUER: "nexus-test",
      JWT_AUDIENCE: "nexus-test",
      ...Object.fromEntries(
        Object.entries(stack.subgraphUrls).map(([name, url]) => [`${name.toUpperCase()}_URL`, url]),
      ),
    }),
    createLogger("graphiql-e2e", "silent"),
  );
  openOrigin = new URL(open.url).origin;
  profile = mkdtempSync(join(tmpdir(), "nexus-graphiql-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 900 },
  });
  context.on("response", async (response) => {
    const request = response.request();
    if (request.method() !== "POST" || !request.url().endsWith("/graphql")) return;
    const body = JSON.parse(request.postData() ?? "{}") as { operationName?: string; query?: string };
    const name =
      body.operationName ?? /(?:query|mutation)\s+(\w+)/.exec(body.query ?? "")?.[1] ?? "anonymous";
    operations.push({ name, status: response.status() });
  });
  page = await openPage(origin, context.pages()[0]);
}, 180_000);

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await open?.stop();
  await stack?.stop();
});

/** A tab of the browser at `/graphiql` of the gateway at `gatewayOrigin`, watched. */
async function openPage(gatewayOrigin: string, existing?: Page): Promise<Page> {
  const tab = existing ?? (await context.newPage());
  tab.on("request", (request) => {
    requests.push({ pageOrigin: gatewayOrigin, url: request.url() });
  });
  tab.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  tab.on("pageerror", (error) => {
    pageErrors.push(error.message);
  });
  await tab.goto(`${gatewayOrigin}/graphiql`);
  return tab;
}

/** expect.poll with room for a page that plans, fetches and renders: its default is 1 s. */
const poll = <T>(probe: () => T | Promise<T>) => expect.poll(probe, { timeout: 15_000 });

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
async function runExample<T>(tab: string, rootField: string): Promise<T> {
  const before = operations.length;
  // CodeMirror loads after GraphiQL mounts; until then the run button does nothing.
  await page.waitForSelector(".graphiql-query-editor .CodeMirror");
  // After a sign-out and a new sign-in GraphiQL mounts again and restores its tabs from
  // localStorage; when its last editor save and its tab save straddle the sign-out, it keeps
  // the restored tab and adds the editor's query as one more. Both hold the same operation.
  await page
    .locator(".graphiql-tab-button", { hasText: new RegExp(`^${tab}$`) })
    .first()
    .click();
  // GraphiQL takes the operation name from the editor 100 ms after it changes: a run sent
  // sooner would name the previous tab's operation.
  await poll(() => page.evaluate(() => localStorage.getItem("graphiql:operationName"))).toBe(tab);
  await page.click(".graphiql-execute-button");
  await poll(() => operations.slice(before).find((operation) => operation.name === tab)).toEqual({
    name: tab,
    status: 200,
  });
  await poll(resultText).toContain(`"${rootField}"`);
  const result = JSON.parse(await resultText()) as { data?: T; errors?: unknown[] };
  expect(result.errors).toBeUndefined();
  if (!result.data) throw new Error("no data in the result pane");
  return result.data;
}

/** The admin example; `onHand` needs inventory:read, so it is there only with an admin's token. */
async function runLowStock(): Promise<LowStock> {
  const data = await runExample<LowStock>("LowStockProducts", "lowStockProducts");
  for (const edge of data.lowStockProducts.edges) expect(typeof edge.node.inventory.onHand).toBe("number");
  return data;
}

describe("GraphiQL in Chromium, with GRAPHIQL=admin", () => {
  it("asks for a sign-in before it shows anything, and turns a customer away", async () => {
    await page.waitForSelector("#nx-sign-in", { state: "visible" });
    expect(await page.locator(".graphiql-container").count()).toBe(0);

    const customer = account("CUSTOMER");
    await signIn(customer.email, customer.password);
    await poll(() => page.textContent("#nx-sign-in-error")).toBe(
      `This GraphiQL is for admins: ${customer.email} is a CUSTOMER account.`,
    );
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
    await poll(() => operations.find((operation) => operation.name === "IntrospectionQuery")).toEqual({
      name: "IntrospectionQuery",
      status: 200,
    });

    // The preloaded admin example, run from its tab; the result pane shows the data.
    const result = await runLowStock();
    expect(result.lowStockProducts.totalCount).toBeGreaterThan(0);
    expect(await page.isVisible(".graphiql-response")).toBe(true);

    mkdirSync(RESULTS_DIR, { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });

  it("refreshes the access token before it expires, and goes on with the new one", async () => {
    await poll(() => operations.some((operation) => operation.name === "GraphiqlRefresh")).toBe(true);
    expect(operations.filter((operation) => operation.name === "GraphiqlRefresh")).toContainEqual({
      name: "GraphiqlRefresh",
      status: 200,
    });
    await runLowStock();
    expect(await page.textContent("#nx-viewer")).toBe(`Signed in as ${account("ADMIN").email} (ADMIN)`);
  });

  it("signs out: the sign-in is ended at the users subgraph and asked for again", async () => {
    await page.click("#nx-sign-out");
    await page.waitForSelector("#nx-sign-in", { state: "visible" });
    expect(await page.locator(".graphiql-container").count()).toBe(0);
    await poll(() => operations.at(-1)).toEqual({ name: "GraphiqlSignOut", status: 200 });
  });

  it("takes a pasted admin token instead of a password, and refuses a customer's", async () => {
    await page.click(".nx-token summary");
    await page.fill(
      "#nx-token-form textarea",
      await stack.auth.bearer("00000000-0000-4000-8000-000000000001"),
    );
    await page.click("#nx-token-form button[type=submit]");
    await poll(() => page.textContent("#nx-sign-in-error")).toBe(
      "This GraphiQL is for admins: that token is for role CUSTOMER.",
    );

    await page.fill(
      "#nx-token-form textarea",
      await stack.auth.bearer("00000000-0000-4000-8000-000000000002", "ADMIN"),
    );
    await page.click("#nx-token-form button[type=submit]");
    await page.waitForSelector(".graphiql-container");
    expect(await page.textContent("#nx-viewer")).toBe(
      "Signed in as token for 00000000-0000-4000-8000-000000000002 (ADMIN)",
    );
    await runLowStock();
  });
});

describe("GraphiQL in Chromium, with GRAPHIQL=on", () => {
  beforeAll(async () => {
    if (!noChromium) page = await openPage(openOrigin);
  });

  it("opens without a sign-in and runs the storefront search anonymously", async () => {
    await page.waitForSelector(".graphiql-container");
    expect(await page.textContent("#nx-viewer")).toBe("Not signed in");
    expect(await page.isVisible("#nx-sign-in")).toBe(false);
    const data = await runExample<{ products: { totalCount: number } }>("ProductSearch", "products");
    expect(data.products.totalCount).toBeGreaterThan(0);
  });

  it("signs a customer in from the bar and runs the viewer's orders as that customer", async () => {
    const customer = account("CUSTOMER");
    await page.click("#nx-open-sign-in");
    await signIn(customer.email, customer.password);
    await poll(() => page.textContent("#nx-viewer")).toBe(`Signed in as ${customer.email} (CUSTOMER)`);
    expect(await page.isVisible("#nx-sign-in")).toBe(false);
    const data = await runExample<{ me: { email: string; role: string } }>("MyOrders", "me");
    expect(data.me).toMatchObject({ email: customer.email, role: "CUSTOMER" });
  });
});

describe("GraphiQL in Chromium, whatever the mode", () => {
  it("made no request outside the gateway's origin, and broke none of its policy", () => {
    expect(requests.length).toBeGreaterThan(10);
    expect(requests.filter(({ pageOrigin, url }) => new URL(url).origin !== pageOrigin)).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
