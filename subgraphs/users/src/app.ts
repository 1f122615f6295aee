import {
  createLogger,
  createShutdownStack,
  createSubgraphAuthenticator,
  createTokenSigner,
  createTokenVerifier,
  headerValue,
  type Logger,
  loadSubgraphSecrets,
  requestMeta,
  sendJson,
  startHttpServer,
} from "@nexus/core";
import { connectRedis, openPostgres } from "@nexus/stores";
import { sql } from "kysely";
import { createLoginThrottle } from "./auth/login-throttle.ts";
import { loadSigningKey } from "./auth/signing-key.ts";
import type { Config } from "./config.ts";
import { createContext, type Deps } from "./context.ts";
import type { Database } from "./db/database.ts";
import { migrations } from "./db/migrations.ts";
import { seedDemoData } from "./db/seed.ts";
import { exchangeApiKey } from "./partner/partner.service.ts";
import { createServer } from "./server.ts";

/** Connects, migrates, seeds when asked, and serves. Used by index.ts and by end-to-end tests. */
export async function startApp(config: Config, logger: Logger = createLogger("users", config.logLevel)) {
  const db = await openPostgres<Database>(config.databaseUrl, migrations);
  const shutdown = createShutdownStack("users");
  shutdown.defer(() => db.destroy());

  try {
    const redis = await connectRedis(config.redisUrl);
    shutdown.defer(async () => {
      await redis.quit();
    });
    if (config.seedDemoData) await seedDemoData(db, logger);

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
      signer,
      verify,
      throttle,
      refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
      logger,
    };

    const http = await startHttpServer({
      apollo: createServer(logger),
      host: config.host,
      port: config.port,
      logger,
      // Only the gateway exchanges API keys: the route is behind the same check as /graphql.
      authenticate: createSubgraphAuthenticator(await loadSubgraphSecrets(config, logger)),
      context: (req) => createContext(deps, requestMeta(req)),
      // Public key material: every service fetches it, and it must verify before it knows anyone.
      publicRoutes: {
        "GET /.well-known/jwks.json": (_req, res) => {
          // Verifiers may cache the key set, but briefly: a rotation must reach them within minutes.
          res.setHeader("cache-control", "public, max-age=300");
          sendJson(res, 200, signer.jwks);
        },
      },
      routes: {
        "POST /auth/partner-token": async (req, res) => {
          const apiKey = headerValue(req.headers["x-api-key"]) ?? "";
          const token = await exchangeApiKey(db, signer, apiKey, config.partnerTokenTtlSeconds);
          if (!token) return sendJson(res, 401, { error: "The API key is unknown or revoked." });
          sendJson(res, 200, token);
        },
      },
      healthCheck: async () => {
        await sql`SELECT 1`.execute(db);
      },
    });
    shutdown.defer(() => http.close());
    logger.info("users subgraph ready", { url: http.url });

    return { url: http.url, db, redis, signer, stop: shutdown.stopAll };
  } catch (error) {
    await shutdown.stopAll().catch(() => {});
    throw error;
  }
}
