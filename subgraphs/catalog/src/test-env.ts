import type { ApolloServer } from "@apollo/server";
import { createLogger, DEFAULT_CURRENCY } from "@nexus/core";
import { connectRedis } from "@nexus/stores";
import {
  createTestAuth,
  createTestMongo,
  type executeSingle,
  startTestSubgraph,
  TEST_REDIS_URL,
  type TestAuth,
  type TestMongo,
  testRedisPrefix,
} from "@nexus/testing";
import type { Redis } from "ioredis";
import { type Context, createContext, type Deps } from "./context.ts";
import { type CatalogDb, createCatalogDb, ensureIndexes, upgradeDocuments } from "./db/collections.ts";
import { seedDemoData } from "./db/seed.ts";
import { createProductCache, type ProductCache } from "./product/product.cache.ts";
import { resolvers } from "./resolvers.ts";
import type { ReviewSettings } from "./review/review.service.ts";
import { DEFAULT_BLOCKED_WORDS, parseWordList } from "./review/screening.model.ts";

export interface TestEnv {
  mongo: TestMongo;
  db: CatalogDb;
  redis: Redis;
  prefix: string;
  cache: ProductCache;
  deps: Deps;
  auth: TestAuth;
  server: ApolloServer<Context>;
  /** Runs an operation as the gateway would send it, optionally with an Authorization header. */
  run(
    query: string,
    variables?: Record<string, unknown>,
    authorization?: string,
  ): ReturnType<typeof executeSingle>;
  /** How many commands of `name` went to `collection` since the last reset of `mongo.commands`. */
  count(name: string, collection: string): number;
  close(): Promise<void>;
}

/**
 * A catalog subgraph in-process on its own MongoDB database and Redis prefix, optionally with
 * the demo data. Real stores throughout; only the token signer is local.
 */
export async function createTestEnv(
  label: string,
  options: { seed: boolean; reviews?: Partial<ReviewSettings>; storeCurrency?: string },
): Promise<TestEnv> {
  const logger = createLogger("catalog-test", "silent");
  const mongo = await createTestMongo(label);
  const db = createCatalogDb(mongo.db);
  await ensureIndexes(db);
  await upgradeDocuments(db);
  const storeCurrency = options.storeCurrency ?? DEFAULT_CURRENCY;
  if (options.seed) await seedDemoData(db, logger, storeCurrency);
  const redis = await connectRedis(TEST_REDIS_URL);
  const prefix = testRedisPrefix(label);
  const cache = createProductCache({ redis, prefix, ttlSeconds: 300, logger });
  const auth = await createTestAuth();
  const reviews: ReviewSettings = {
    autoApproveVerified: true,
    blockedWords: parseWordList(DEFAULT_BLOCKED_WORDS),
    ...options.reviews,
  };
  const deps: Deps = { db, verify: auth.verify, logger, cache, reviews, storeCurrency };
  const subgraph = await startTestSubgraph({ name: "catalog", resolvers, createContext, deps, logger });
  mongo.commands.length = 0;
  return {
    mongo,
    db,
    redis,
    prefix,
    cache,
    deps,
    auth,
    server: subgraph.server,
    run: (query, variables = {}, authorization) => subgraph.run(query, variables, { authorization }),
    count: (name, collection) =>
      mongo.commands.filter((c) => c.name === name && c.collection === collection).length,
    async close() {
      await subgraph.stop();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
      await mongo.close();
    },
  };
}
