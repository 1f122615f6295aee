import {
  createLogger,
  createTokenSigner,
  createTokenVerifier,
  headerValue,
  type Logger,
  loadPersistedManifests,
  sendJson,
  startSubgraph,
} from "@nexus/core";
import { relaySettings, startOutboxRelay } from "@nexus/events";
import { postgresStore, redisStore } from "@nexus/stores";
import { createAccountMailThrottle } from "./auth/account-mail-throttle.ts";
import { createLoginThrottle } from "./auth/login-throttle.ts";
import { loadSigningKey } from "./auth/signing-key.ts";
import type { Config } from "./config.ts";
import { createContext, type Deps } from "./context.ts";
import type { Database } from "./db/database.ts";
import { migrations } from "./db/migrations.ts";
import { seedDemoData } from "./db/seed.ts";
import { exchangeApiKey, parseUsageReport, recordOperationUsage } from "./partner/partner.service.ts";
import { resolvers } from "./resolvers.ts";

/**
 * Connects, migrates, seeds when asked, starts the outbox relay, and serves. Used by index.ts
 * and by end-to-end tests.
 */
export async function startApp(config: Config, logger: Logger = createLogger("users", config.logLevel)) {
  return startSubgraph({
    name: "users",
    config,
    logger,
    stores: {
      db: postgresStore<Database>(config.databaseUrl, migrations),
      redis: redisStore(config.redisUrl),
    },
    resolvers,
    createContext,
    async start({ stores: { db, redis }, secrets, defer, metrics }) {
      if (config.seedDemoData) await seedDemoData(db, logger);
      const relay = startOutboxRelay({ db, redis, logger, metrics, ...relaySettings(config) });
      defer(() => relay.stop());
      const signer = await createTokenSigner({
        issuer: config.auth.issuer,
        audience: config.auth.audience,
        privateKeyPem: await loadSigningKey(config.jwtPrivateKey, logger),
        retiredPublicKeysPem: config.jwtRetiredPublicKeys,
        ttlSeconds: config.accessTokenTtlSeconds,
      });
      // users verifies its own tokens with the keys it holds instead of fetching its own JWKS.
      const verify = createTokenVerifier({
        issuer: config.auth.issuer,
        audience: config.auth.audience,
        jwks: signer.jwks,
      });
      const throttle = createLoginThrottle(redis, { prefix: config.redisKeyPrefix, ...config.login });
      const deps: Deps = {
        db,
        manifests: loadPersistedManifests(config.persistedOperationsDir),
        signer,
        verify,
        throttle,
        refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
        logger,
        relay,
        secrets,
        accountTokens: config.accountTokens,
        mailThrottle: createAccountMailThrottle(redis, {
          prefix: config.redisKeyPrefix,
          ...config.mailThrottle,
        }),
      };
      return {
        deps,
        // Public key material: every service fetches it, and it must verify before it knows anyone.
        publicRoutes: {
          "GET /.well-known/jwks.json": (_req, res) => {
            // Verifiers may cache the key set, but briefly: a rotation must reach them within minutes.
            res.setHeader("cache-control", "public, max-age=300");
            sendJson(res, 200, signer.jwks);
          },
        },
        // Only the gateway exchanges API keys: the route is behind the same check as /graphql.
        routes: {
          "POST /auth/partner-token": async (req, res) => {
            const apiKey = headerValue(req.headers["x-api-key"]) ?? "";
            const token = await exchangeApiKey(db, signer, apiKey, config.partnerTokenTtlSeconds);
            if (!token) return sendJson(res, 401, { error: "The API key is unknown or revoked." });
            sendJson(res, 200, token);
          },
          // The gateway's counts of partners' persisted operations, sent every few seconds.
          "POST /partner-usage": async (_req, res, body) => {
            let parsed: unknown;
            try {
              parsed = JSON.parse(body ?? "");
            } catch {
              return sendJson(res, 400, { error: "The usage report is not JSON." });
            }
            const report = parseUsageReport(parsed);
            if (!report.ok) return sendJson(res, 400, { error: `Invalid usage report: ${report.error}.` });
            await recordOperationUsage(db, report.entries);
            sendJson(res, 200, { recorded: report.entries.length });
          },
        },
        expose: { signer, relay },
      };
    },
  });
}
