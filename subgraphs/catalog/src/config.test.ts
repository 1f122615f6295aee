import { ConfigError } from "@nexus/core";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.ts";
import { DEFAULT_BLOCKED_WORDS, parseWordList } from "./review/screening.model.ts";

describe("loadConfig", () => {
  it("refuses a store currency ISO 4217 does not know", () => {
    expect(() => loadConfig({ STORE_CURRENCY: "YEN" })).toThrow(
      expect.objectContaining({
        problems: ['STORE_CURRENCY must be an ISO 4217 currency code in capitals such as USD, got "YEN"'],
      }),
    );
  });

  it("serves a local machine by default, frozen", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4002,
      production: false,
      mongoUrl: "mongodb://127.0.0.1:27017/",
      mongoDatabase: "catalog",
      mongoEmbedded: true,
      seedDemoData: false,
      storeCurrency: "USD",
      cacheTtlSeconds: 300,
      redisUrl: "redis://127.0.0.1:6379",
      eventsPrefix: "nexus",
      auth: { jwksUrl: "http://127.0.0.1:4001/.well-known/jwks.json" },
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("reads every catalog variable", () => {
    const config = loadConfig({
      CATALOG_PORT: "0",
      MONGO_URL: "mongodb+srv://cluster.example.com/",
      CATALOG_MONGO_DATABASE: "shop_catalog",
      MONGO_EMBEDDED: "false",
      SEED_DEMO_DATA: "true",
      CATALOG_CACHE_TTL_SECONDS: "0",
      STORE_CURRENCY: "JPY",
    });
    expect(config).toMatchObject({
      port: 0,
      mongoUrl: "mongodb+srv://cluster.example.com/",
      mongoDatabase: "shop_catalog",
      mongoEmbedded: false,
      seedDemoData: true,
      storeCurrency: "JPY",
      cacheTtlSeconds: 0,
    });
  });

  it("never falls back to the embedded server in production unless asked, and refuses being asked", () => {
    // Production also requires the subgraph secret; this test is about MongoDB alone.
    const production = { NODE_ENV: "production", SUBGRAPH_SECRET: "s".repeat(32) };
    expect(loadConfig(production).mongoEmbedded).toBe(false);
    expect(() => loadConfig({ ...production, MONGO_EMBEDDED: "true" })).toThrow(
      new ConfigError(["MONGO_EMBEDDED must be false when NODE_ENV=production"]),
    );
  });

  it("lists every bad value at once", () => {
    expect(() =>
      loadConfig({ MONGO_URL: "postgres://127.0.0.1/", MONGO_EMBEDDED: "maybe", SEED_DEMO_DATA: "2" }),
    ).toThrow(
      new ConfigError([
        'MONGO_URL must use mongodb: or mongodb+srv:, got "postgres:"',
        'MONGO_EMBEDDED must be true or false, got "maybe"',
        'SEED_DEMO_DATA must be true or false, got "2"',
      ]),
    );
  });

  it("refuses a database name MongoDB would refuse", () => {
    for (const name of ["shop.catalog", "a/b", "x".repeat(64), "has space"]) {
      expect(() => loadConfig({ CATALOG_MONGO_DATABASE: name })).toThrow(/CATALOG_MONGO_DATABASE must be/);
    }
  });

  it("screens reviews with the default word list and auto-approves verified buyers unless told otherwise", () => {
    const config = loadConfig({});
    expect(config.reviewAutoApproveVerified).toBe(true);
    expect(config.reviewBlockedWords).toEqual(parseWordList(DEFAULT_BLOCKED_WORDS));
    expect(config.reviewBlockedWords).toContainEqual(["online", "casino"]);
    const custom = loadConfig({
      REVIEW_AUTO_APPROVE_VERIFIED: "false",
      REVIEW_BLOCKED_WORDS: " Refurbished , knock off,,Crème ",
    });
    expect(custom.reviewAutoApproveVerified).toBe(false);
    expect(custom.reviewBlockedWords).toEqual([["refurbished"], ["knock", "off"], ["creme"]]);
    expect(loadConfig({ REVIEW_BLOCKED_WORDS: "none" }).reviewBlockedWords).toEqual([]);
    expect(() => loadConfig({ REVIEW_AUTO_APPROVE_VERIFIED: "sometimes" })).toThrow(
      new ConfigError(['REVIEW_AUTO_APPROVE_VERIFIED must be true or false, got "sometimes"']),
    );
  });
});
