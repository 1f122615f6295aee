import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type ConfigOf, DEFAULT_REDIS_URL, env, loadConfigFrom, serviceConfigSchema } from "@nexus/core";
import { eventsConfigSchema } from "@nexus/events";
import { databaseUrlField } from "@nexus/stores";
import { z } from "zod";

/** The checked-in operations, found from this file so the subgraph starts from any directory. */
const DEFAULT_PERSISTED_OPERATIONS_DIR = fileURLToPath(
  new URL("../../../schema/operations", import.meta.url),
);

/** A PEM in one line of a .env, its line breaks written `\n`, back to the PEM. */
const pem = (value: string | undefined) => value?.replaceAll("\\n", "\n");

const configSchema = serviceConfigSchema("users", 4001).safeExtend({
  databaseUrl: databaseUrlField("users"),
  ...eventsConfigSchema.shape,
  redisUrl: env.url("REDIS_URL", DEFAULT_REDIS_URL, ["redis:", "rediss:"]),
  /** Prefix of this deployment's Redis keys (login and password-reset throttling). */
  redisKeyPrefix: env.string("REDIS_KEY_PREFIX", "nexus"),
  /** PKCS#8 PEM of the ES256 signing key; unset in development means a generated key under .nexus/. */
  jwtPrivateKey: env.optionalString("JWT_PRIVATE_KEY").transform(pem),
  /** SPKI PEMs of retired signing keys, still published until the tokens they signed expire. */
  jwtRetiredPublicKeys: env.optionalString("JWT_RETIRED_PUBLIC_KEYS").transform(pem),
  accessTokenTtlSeconds: env.int("ACCESS_TOKEN_TTL_SECONDS", 900, { min: 60, max: 3600 }),
  /** Lifetime of a sign-in: rotating refresh tokens never extends it. */
  refreshTokenTtlSeconds: env.int("REFRESH_TOKEN_TTL_SECONDS", 30 * 86_400, { min: 3600, max: 90 * 86_400 }),
  /** Lifetime of the access tokens partner API keys are exchanged for. */
  partnerTokenTtlSeconds: env.int("PARTNER_TOKEN_TTL_SECONDS", 300, { min: 60, max: 3600 }),
  /**
   * The client folders of persisted operations (`partnerManifest`): the same directory the
   * gateway runs partners' operations from (its PERSISTED_OPERATIONS_DIR), checked in.
   */
  persistedOperationsDir: env
    .string("PERSISTED_OPERATIONS_DIR", DEFAULT_PERSISTED_OPERATIONS_DIR)
    .transform((dir) => resolve(dir)),
  login: z.object({
    maxAttemptsPerAccount: env.int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5, { min: 1, max: 1000 }),
    maxAttemptsPerClient: env.int("LOGIN_MAX_FAILURES_PER_CLIENT", 20, { min: 1, max: 100_000 }),
    windowSeconds: env.int("LOGIN_WINDOW_SECONDS", 60, { min: 1, max: 86_400 }),
  }),
  accountTokens: z.object({
    /** How long a password-reset link works. */
    resetTtlSeconds: env.int("PASSWORD_RESET_TTL_SECONDS", 1800, { min: 60, max: 86_400 }),
    /** How long the set-your-password link of an account staff created works. */
    inviteTtlSeconds: env.int("INVITE_TTL_SECONDS", 7 * 86_400, { min: 3600, max: 30 * 86_400 }),
    /** How long an email-verification link works. */
    verifyTtlSeconds: env.int("EMAIL_VERIFICATION_TTL_SECONDS", 2 * 86_400, { min: 600, max: 30 * 86_400 }),
  }),
  mailThrottle: z.object({
    /** Password-reset requests per email address per window (unknown addresses count the same). */
    maxPerEmail: env.int("PASSWORD_RESET_MAX_PER_EMAIL", 3, { min: 1, max: 1000 }),
    /** Password-reset requests per client address per window. */
    maxPerClient: env.int("PASSWORD_RESET_MAX_PER_CLIENT", 20, { min: 1, max: 100_000 }),
    /** Verification emails a signed-in account may ask to be sent again per window. */
    maxVerificationResends: env.int("VERIFICATION_RESEND_MAX", 3, { min: 1, max: 1000 }),
    windowSeconds: env.int("ACCOUNT_MAIL_WINDOW_SECONDS", 3600, { min: 1, max: 86_400 }),
  }),
  seedDemoData: env.bool("SEED_DEMO_DATA", false),
});

export type Config = ConfigOf<typeof configSchema>;

export function loadConfig(processEnv: NodeJS.ProcessEnv = process.env): Config {
  const config = loadConfigFrom(configSchema, processEnv);
  // Checked once every other value is known good, and thrown on its own, as before the schema.
  if (config.production && !config.jwtPrivateKey) {
    throw new Error("JWT_PRIVATE_KEY is required when NODE_ENV=production.");
  }
  return config;
}
