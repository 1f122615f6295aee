import { createLogger, createTokenVerifier, type Logger, requestMeta, startHttpServer } from "@nexus/core";
import { connectMongo } from "@nexus/stores";
import type { CommandStartedEvent } from "mongodb";
import type { Config } from "./config.ts";
import { createContext, type Deps } from "./context.ts";
import { createCatalogDb, ensureIndexes } from "./db/collections.ts";
import { seedDemoData } from "./db/seed.ts";
import { createServer } from "./server.ts";

export interface StartAppOptions {
  /** Receives every command the MongoDB client sends; end-to-end tests count queries with it. */
  onCommand?: (event: CommandStartedEvent) => void;
}

/** Connects, creates indexes, seeds when asked, and serves. Used by index.ts and by end-to-end tests. */
export async function startApp(
  config: Config,
  logger: Logger = createLogger("catalog", config.logLevel),
  options: StartAppOptions = {},
) {
  const { onCommand } = options;
  const mongo = await connectMongo({
    url: config.mongoUrl,
    database: config.mongoDatabase,
    embeddedFallback: config.mongoEmbedded,
    // Monitoring costs an event per command, so it is on only for a caller that listens.
    clientOptions: onCommand ? { monitorCommands: true } : {},
  });
  if (onCommand) mongo.client.on("commandStarted", onCommand);
  if (mongo.embedded) {
    logger.warn("using the embedded in-memory MongoDB: data is lost when the process stops", {
      url: mongo.url,
    });
  }

  try {
    const db = createCatalogDb(mongo.db);
    await ensureIndexes(db);
    if (config.seedDemoData) await seedDemoData(db, logger);
    const deps: Deps = { db, verify: createTokenVerifier(config.auth), logger };

    const http = await startHttpServer({
      apollo: createServer(logger),
      host: config.host,
      port: config.port,
      logger,
      context: (req) => createContext(deps, requestMeta(req)),
      healthCheck: async () => {
        await mongo.db.command({ ping: 1 });
      },
    });
    logger.info("catalog subgraph ready", { url: http.url });

    return {
      url: http.url,
      mongo,
      async stop() {
        await http.close();
        await mongo.close();
      },
    };
  } catch (error) {
    // An embedded server is a child process: stop it rather than leave it running.
    await mongo.close().catch(() => {});
    throw error;
  }
}
