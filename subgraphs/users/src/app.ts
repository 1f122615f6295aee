import {
  createLogger,
  createShutdownStack,
  createTokenSigner,
  createTokenVerifier,
  type Logger,
  requestMeta,
  sendJson,
  startHttpServer,
} from "@nexus/core";
import { openPostgres } from "@nexus/stores";
import { sql } from "kysely";
import { loadSigningKey } from "./auth/signing-key.ts";
import type { Config } from "./config.ts";
import { createContext, type Deps } from "./context.ts";
import type { Database } from "./db/database.ts";
import { migrations } from "./db/migrations.ts";
import { seedDemoData } from "./db/seed.ts";
import { createServer } from "./server.ts";

/** Connects, migrates, seeds when asked, and serves. Used by index.ts and by end-to-end tests. */
export async function startApp(config: Config, logger: Logger = createLogger("users", config.logLevel)) {
  const db = await openPostgres<Database>(config.databaseUrl, migrations);
  const shutdown = createShutdownStack("users");
  shutdown.defer(() => db.destroy());

  try {
    if (config.seedDemoData) await seedDemoData(db, logger);

    const signer = await createTokenSigner({
      issuer: config.auth.issuer,
      audience: config.auth.audience,
      privateKeyPem: await loadSigningKey(config.jwtPrivateKey, logger),
      ttlSeconds: config.accessTokenTtlSeconds,
    });
    // users verifies its own tokens with the keys it holds instead of fetching its own JWKS.
    const verify = createTokenVerifier({
      issuer: config.auth.issuer,
      audience: config.auth.audience,
      jwks: signer.jwks,
    });
    const deps: Deps = { db, signer, verify, logger };

    const http = await startHttpServer({
      apollo: createServer(logger),
      host: config.host,
      port: config.port,
      logger,
      context: (req) => createContext(deps, requestMeta(req)),
      routes: { "/.well-known/jwks.json": (_req, res) => sendJson(res, 200, signer.jwks) },
      healthCheck: async () => {
        await sql`SELECT 1`.execute(db);
      },
    });
    shutdown.defer(() => http.close());
    logger.info("users subgraph ready", { url: http.url });

    return { url: http.url, db, stop: shutdown.stopAll };
  } catch (error) {
    await shutdown.stopAll().catch(() => {});
    throw error;
  }
}
