import { createEnvReader, DEFAULT_REDIS_URL, readServiceConfig, type ServiceConfig } from "@nexus/core";
import { readDatabaseUrl } from "@nexus/stores";

export interface Config extends ServiceConfig {
  databaseUrl: string;
  redisUrl: string;
  /** Prefix of this deployment's Redis keys (login throttling). */
  redisKeyPrefix: string;
  /** PKCS#8 PEM of the ES256 signing key; unset in development means a generated key under .nexus/. */
  jwtPrivateKey: string | undefined;
  /** SPKI PEMs of retired signing keys, still published until the tokens they signed expire. */
  jwtRetiredPublicKeys: string | undefined;
  accessTokenTtlSeconds: number;
  /** Lifetime of a sign-in: rotating refresh tokens never extends it. */
  refreshTokenTtlSeconds: number;
  /** Lifetime of the access tokens partner API keys are exchanged for. */
  partnerTokenTtlSeconds: number;
  login: {
    maxAttemptsPerAccount: number;
    maxAttemptsPerClient: number;
    windowSeconds: number;
  };
  seedDemoData: boolean;
}

const pem = (value: string | undefined) => value?.replaceAll("\\n", "\n");

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const read = createEnvReader(env);
  const service = readServiceConfig(read, "users", 4001);
  const config: Config = {
    ...service,
    databaseUrl: readDatabaseUrl(read, "users"),
    redisUrl: read.url("REDIS_URL", DEFAULT_REDIS_URL, ["redis:", "rediss:"]),
    redisKeyPrefix: read.string("REDIS_KEY_PREFIX", "nexus"),
    jwtPrivateKey: pem(read.optionalString("JWT_PRIVATE_KEY")),
    jwtRetiredPublicKeys: pem(read.optionalString("JWT_RETIRED_PUBLIC_KEYS")),
    accessTokenTtlSeconds: read.int("ACCESS_TOKEN_TTL_SECONDS", 900, { min: 60, max: 3600 }),
    refreshTokenTtlSeconds: read.int("REFRESH_TOKEN_TTL_SECONDS", 30 * 86_400, {
      min: 3600,
      max: 90 * 86_400,
    }),
    partnerTokenTtlSeconds: read.int("PARTNER_TOKEN_TTL_SECONDS", 300, { min: 60, max: 3600 }),
    login: {
      maxAttemptsPerAccount: read.int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5, { min: 1, max: 1000 }),
      maxAttemptsPerClient: read.int("LOGIN_MAX_FAILURES_PER_CLIENT", 20, { min: 1, max: 100_000 }),
      windowSeconds: read.int("LOGIN_WINDOW_SECONDS", 60, { min: 1, max: 86_400 }),
    },
    seedDemoData: read.bool("SEED_DEMO_DATA", false),
  };
  read.done();
  if (service.production && !config.jwtPrivateKey) {
    throw new Error("JWT_PRIVATE_KEY is required when NODE_ENV=production.");
  }
  return Object.freeze(config);
}
