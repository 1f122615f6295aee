import {
  createLogger,
  createTokenSigner,
  createTokenVerifier,
  ROLE_SCOPES,
  type TokenSigner,
} from "@nexus/core";
import { connectRedis } from "@nexus/stores";
import {
  createTestAuth,
  createTestPostgres,
  startTestSubgraph,
  TEST_REDIS_URL,
  TEST_TOKEN_AUDIENCE,
  type TestPostgres,
  type TestSubgraph,
  testRedisPrefix,
} from "@nexus/testing";
import type { Redis } from "ioredis";
import { expect } from "vitest";
import { createLoginThrottle } from "./auth/login-throttle.ts";
import { type Context, createContext, type Deps } from "./context.ts";
import type { Database } from "./db/database.ts";
import { migrations } from "./db/migrations.ts";
import { resolvers } from "./resolvers.ts";

export interface AuthData {
  accessToken: string | null;
  expiresAt: string | null;
  refreshToken: string | null;
  refreshTokenExpiresAt: string | null;
  user: { id: string; email: string; name: string; role: string } | null;
  userErrors: { field: string[] | null; message: string; code: string }[];
}

export const AUTH_FIELDS = `accessToken expiresAt refreshToken refreshTokenExpiresAt
  user { id email name role } userErrors { field message code }`;

/** The users subgraph over a real database and Redis, driven through executeOperation. */
export interface TestEnv {
  pg: TestPostgres<Database>;
  redis: Redis;
  deps: Deps;
  signer: TokenSigner;
  run: TestSubgraph<Context>["run"];
  /** Registers an account through the API and returns its payload, failing the test on errors. */
  register(email: string, options?: { password?: string; name?: string }): Promise<AuthData>;
  /** Registers an account and makes it an admin; returns a bearer token carrying the admin scopes. */
  admin(email: string): Promise<{ id: string; authorization: string }>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function createTestEnv(
  options: {
    login?: Partial<{ maxAttemptsPerAccount: number; maxAttemptsPerClient: number; windowSeconds: number }>;
    refreshTokenTtlSeconds?: number;
  } = {},
): Promise<TestEnv> {
  const pg = await createTestPostgres<Database>("users", migrations);
  const redis = await connectRedis(TEST_REDIS_URL);
  const { privateKeyPem } = await createTestAuth();
  const signer = await createTokenSigner({ ...TEST_TOKEN_AUDIENCE, privateKeyPem, ttlSeconds: 900 });
  const logger = createLogger("users-test", "silent");
  const prefix = testRedisPrefix("users");
  const deps: Deps = {
    db: pg.db,
    signer,
    verify: createTokenVerifier({ ...TEST_TOKEN_AUDIENCE, jwks: signer.jwks }),
    throttle: createLoginThrottle(redis, {
      prefix,
      maxAttemptsPerAccount: 5,
      maxAttemptsPerClient: 20,
      windowSeconds: 60,
      ...options.login,
    }),
    refreshTokenTtlSeconds: options.refreshTokenTtlSeconds ?? 30 * 86_400,
    logger,
  };
  const { run, stop } = await startTestSubgraph({ name: "users", resolvers, createContext, deps });

  const register: TestEnv["register"] = async (email, options = {}) => {
    const result = await run(
      `mutation ($input: RegisterInput!) { register(input: $input) { ${AUTH_FIELDS} } }`,
      {
        input: {
          email,
          password: options.password ?? "correct horse battery",
          name: options.name ?? "Test User",
        },
      },
    );
    expect(result.errors).toBeUndefined();
    return (result.data as { register: AuthData }).register;
  };

  return {
    pg,
    redis,
    deps,
    signer,
    run,
    register,
    async admin(email) {
      const { user } = await register(email);
      const id = user?.id ?? "";
      await pg.db.updateTable("users").set({ role: "ADMIN" }).where("id", "=", id).execute();
      const { token } = await signer.sign({ sub: id, role: "ADMIN", scopes: ROLE_SCOPES.ADMIN });
      return { id, authorization: `Bearer ${token}` };
    },
    async reset() {
      await pg.db.deleteFrom("partner_clients").execute();
      await pg.db.deleteFrom("users").execute();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
    },
    async close() {
      await stop();
      await redis.quit();
      await pg.drop();
    },
  };
}
