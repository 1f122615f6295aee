import {
  createTokenSigner,
  createTokenVerifier,
  type PersistedManifests,
  ROLE_SCOPES,
  type SubgraphSecrets,
  type TokenSigner,
} from "@nexus/core";
import { type EventPayloads, type EventType, type OutboxRelay, startOutboxRelay } from "@nexus/events";
import { connectRedis } from "@nexus/stores";
import {
  createRecordingLogger,
  createTestAuth,
  createTestPostgres,
  deleteRedisKeys,
  type LogRecord,
  rawId,
  startTestSubgraph,
  TEST_REDIS_URL,
  TEST_SUBGRAPH_SECRET,
  TEST_TOKEN_AUDIENCE,
  type TestPostgres,
  type TestSubgraph,
  testRedisPrefix,
} from "@nexus/testing";
import type { Redis } from "ioredis";
import { expect } from "vitest";
import type { AccountTokenLifetimes } from "./account/account-token.service.ts";
import { type AccountMailThrottleOptions, createAccountMailThrottle } from "./auth/account-mail-throttle.ts";
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

/** An outbox row as tests read it: the event's type, aggregate and payload, oldest first. */
export interface RecordedEvent<T extends EventType = EventType> {
  type: T;
  aggregateId: string;
  payload: EventPayloads[T];
}

/** The users subgraph over a real database and Redis, driven through executeOperation. */
export interface TestEnv {
  pg: TestPostgres<Database>;
  redis: Redis;
  deps: Deps;
  signer: TokenSigner;
  run: TestSubgraph<Context>["run"];
  secrets: SubgraphSecrets;
  relay: OutboxRelay;
  /** What the services logged, since the last reset. */
  logs: LogRecord[];
  /** The events in the outbox, oldest first; only those of `type` when given. */
  events<T extends EventType>(type?: T): Promise<RecordedEvent<T>[]>;
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
    accountTokens?: Partial<AccountTokenLifetimes>;
    mailThrottle?: Partial<Omit<AccountMailThrottleOptions, "prefix">>;
    /** Registered operations per client; none by default. */
    manifests?: PersistedManifests;
  } = {},
): Promise<TestEnv> {
  const pg = await createTestPostgres<Database>("users", migrations);
  const redis = await connectRedis(TEST_REDIS_URL);
  const { privateKeyPem } = await createTestAuth();
  const signer = await createTokenSigner({ ...TEST_TOKEN_AUDIENCE, privateKeyPem, ttlSeconds: 900 });
  const { logger, logs } = createRecordingLogger();
  const prefix = testRedisPrefix("users");
  const eventsPrefix = testRedisPrefix("users-events");
  // A real relay to a test prefix: what services flush after a commit is published, and the
  // outbox rows stay for the tests to read.
  const relay = startOutboxRelay({ db: pg.db, redis, prefix: eventsPrefix, logger, pollIntervalMs: 60_000 });
  const secrets: SubgraphSecrets = { current: TEST_SUBGRAPH_SECRET };
  const deps: Deps = {
    db: pg.db,
    manifests: options.manifests ?? new Map(),
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
    relay,
    secrets,
    accountTokens: {
      resetTtlSeconds: 1800,
      inviteTtlSeconds: 7 * 86_400,
      verifyTtlSeconds: 2 * 86_400,
      ...options.accountTokens,
    },
    mailThrottle: createAccountMailThrottle(redis, {
      prefix,
      maxPerEmail: 3,
      maxPerClient: 20,
      maxVerificationResends: 3,
      windowSeconds: 3600,
      ...options.mailThrottle,
    }),
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
    secrets,
    relay,
    logs,
    async events(type) {
      const rows = await pg.db
        .selectFrom("outbox")
        .select(["type", "aggregate_id", "payload"])
        .$call((q) => (type ? q.where("type", "=", type) : q))
        .orderBy("occurred_at")
        .orderBy("id")
        .execute();
      return rows.map((row) => ({
        type: row.type as NonNullable<typeof type>,
        aggregateId: row.aggregate_id,
        payload: row.payload as EventPayloads[NonNullable<typeof type>],
      }));
    },
    register,
    async admin(email) {
      const { user } = await register(email);
      const id = rawId(user?.id);
      await pg.db.updateTable("users").set({ role: "ADMIN" }).where("id", "=", id).execute();
      const { token } = await signer.sign({ sub: id, role: "ADMIN", scopes: ROLE_SCOPES.ADMIN });
      return { id, authorization: `Bearer ${token}` };
    },
    async reset() {
      await pg.db.deleteFrom("partner_clients").execute();
      await pg.db.deleteFrom("outbox").execute();
      logs.length = 0;
      await pg.db.deleteFrom("users").execute();
      await deleteRedisKeys(redis, [prefix]);
    },
    async close() {
      await stop();
      await relay.stop();
      await deleteRedisKeys(redis, [eventsPrefix]);
      await redis.quit();
      await pg.drop();
    },
  };
}
