import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { connect } from "node:net";
import { createInterface } from "node:readline";
import { createLogger } from "@nexus/core";
import { TEST_REDIS_URL, TEST_SUBGRAPH_SECRET, testRedisPrefix, testSubgraphHeaders } from "@nexus/testing";
import type { CommandStartedEvent } from "mongodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startApp } from "./app.ts";
import { loadConfig } from "./config.ts";

const logger = createLogger("catalog-app-test", "silent");
const env = {
  HOST: "127.0.0.1",
  CATALOG_PORT: "0",
  LOG_LEVEL: "silent",
  MONGO_EMBEDDED: "false",
  SEED_DEMO_DATA: "true",
  CATALOG_MONGO_DATABASE: `nexus_test_catalog_app_${randomBytes(4).toString("hex")}`,
  REDIS_URL: TEST_REDIS_URL,
  EVENTS_PREFIX: testRedisPrefix("catalog_app"),
  SUBGRAPH_SECRET: TEST_SUBGRAPH_SECRET,
  // No catch-up pass while the test counts MongoDB commands.
  SEARCH_CATCH_UP_MS: "0",
};
const commands: CommandStartedEvent[] = [];
let app: Awaited<ReturnType<typeof startApp>>;

beforeAll(async () => {
  app = await startApp(loadConfig({ ...env, MONGO_URL: inject("mongoUrl") }), logger, {
    onCommand: (event) => commands.push(event),
  });
  // The index builds in the background; its reads are not the request's.
  await app.search.ready();
});

afterAll(async () => {
  // The embedded server has no dropDatabase (it forgets everything on exit); a real MongoDB drops it.
  await app?.mongo.db.dropDatabase().catch(() => {});
  await app?.stop();
});

describe("startApp", () => {
  it("seeds, serves GraphQL over HTTP and reports every MongoDB command to onCommand", async () => {
    commands.length = 0;
    const body = JSON.stringify({
      query:
        '{ products(first: 3, sort: PRICE_DESC, filter: { categorySlug: "coffee" }) { totalCount edges { node { category { slug } } } } }',
    });
    const response = await fetch(app.url, { method: "POST", headers: testSubgraphHeaders(body), body });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      data: {
        products: {
          totalCount: 114,
          edges: [
            { node: { category: { slug: "coffee" } } },
            { node: { category: { slug: "coffee" } } },
            { node: { category: { slug: "coffee" } } },
          ],
        },
      },
    });
    const finds = commands.filter((c) => c.commandName === "find").map((c) => c.command.find);
    // The category tree once (filter and Product.category), the page once, the count once.
    expect(finds.sort()).toEqual(["categories", "products"]);
    expect(commands.filter((c) => c.commandName === "aggregate").map((c) => c.command.aggregate)).toEqual([
      "products",
    ]);
    expect(commands.every((c) => c.databaseName === env.CATALOG_MONGO_DATABASE)).toBe(true);
  });

  it("answers /health by pinging MongoDB and checking Redis", async () => {
    commands.length = 0;
    const response = await fetch(app.url.replace(/\/graphql$/, "/health"));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
    expect(commands.map((c) => c.commandName)).toEqual(["ping"]);
  });

  it("fails fast when MongoDB does not answer and the embedded server is off", async () => {
    await expect(
      startApp(loadConfig({ ...env, MONGO_URL: "mongodb://127.0.0.1:9/" }), logger),
    ).rejects.toThrow("MongoDB is not reachable at mongodb://127.0.0.1:9/.");
  });
});

describe("Cache-Control", () => {
  /** One request over HTTP as the gateway sends it; the header its data source folds into the policy. */
  const cacheControl = async (query: string, variables: Record<string, unknown> = {}) => {
    const body = JSON.stringify({ query, variables });
    const response = await fetch(app.url, { method: "POST", headers: testSubgraphHeaders(body), body });
    expect(response.status).toBe(200);
    return response.headers.get("cache-control");
  };

  it("is computed from the SDL's @cacheControl hints, for entity fetches too", async () => {
    expect(await cacheControl("{ products(first: 2) { edges { node { id name price { amount } } } } }")).toBe(
      "max-age=60, public",
    );
    const [first] = (await app.mongo.db.collection("products").find({}).limit(1).toArray()) ?? [];
    const id = first?._id.toHexString();
    expect(
      await cacheControl(
        "query ($r: [_Any!]!) { _entities(representations: $r) { ... on Product { name category { name } } } }",
        { r: [{ __typename: "Product", id }] },
      ),
    ).toBe("max-age=120, public");
    // A field of the viewer's own makes the answer private.
    expect(
      await cacheControl("query ($id: ID!) { product(id: $id) { name viewerReview { title } } }", { id }),
    ).toBe("max-age=120, private");
    // Without a hint nothing is cached: a mutation's answer included.
    expect(
      await cacheControl(
        'mutation { markReviewHelpful(input: { reviewId: "000000000000000000000000" }) { userErrors { code } } }',
      ),
    ).toBe("no-store");
  });
});

describe("index.ts", () => {
  it("on SIGTERM closes MongoDB and stops the embedded server before it exits", async () => {
    const child = spawn(process.execPath, ["src/index.ts"], {
      cwd: new URL("..", import.meta.url),
      // development, not test: Apollo Server installs its own signal handlers only outside tests.
      env: {
        ...process.env,
        ...env,
        NODE_ENV: "development",
        LOG_LEVEL: "info",
        MONGO_URL: "mongodb://127.0.0.1:9/",
        MONGO_EMBEDDED: "true",
        SEED_DEMO_DATA: "false",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = once(child, "exit");
    let embeddedUrl = "";
    for await (const line of createInterface({ input: child.stdout })) {
      const entry = line.startsWith("{")
        ? (JSON.parse(line) as { msg: string; url?: string })
        : { msg: line };
      if (entry.msg.startsWith("using the embedded")) embeddedUrl = entry.url ?? "";
      if (entry.msg === "catalog subgraph ready") break;
    }
    expect(embeddedUrl).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/$/);

    child.kill("SIGTERM");
    expect(await exited).toEqual([0, null]);
    const { port } = new URL(embeddedUrl);
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(Number(port), "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(false);
      });
      socket.once("error", () => resolve(true));
    });
    expect(refused).toBe(true);
  });
});
