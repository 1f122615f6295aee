import { type ConfigOf, env, loadConfigFrom, serviceConfigSchema, storeCurrencyField } from "@nexus/core";
import { eventsConfigSchema } from "@nexus/events";
import { DEFAULT_BLOCKED_WORDS, parseWordList } from "./review/screening.model.ts";

/** MongoDB refuses these characters in database names, and names past 63 bytes. */
const DATABASE_NAME = /^[^/\\. "$*<>:|?\0]{1,63}$/;

/** Where catalog's database is: read by the service and by its migrate command (src/bin/migrate.ts). */
export const mongoDatabaseFields = {
  mongoUrl: env.url("MONGO_URL", "mongodb://127.0.0.1:27017/", ["mongodb:", "mongodb+srv:"]),
  mongoDatabase: env.string("CATALOG_MONGO_DATABASE", "catalog").superRefine((name, ctx) => {
    if (!DATABASE_NAME.test(name)) {
      ctx.addIssue({
        code: "custom",
        message: `CATALOG_MONGO_DATABASE must be 1 to 63 characters without / \\ . " $ * < > : | ? or spaces, got "${name}"`,
      });
    }
  }),
};

const configSchema = serviceConfigSchema("catalog", 4002)
  .safeExtend({
    ...eventsConfigSchema.shape,
    ...mongoDatabaseFields,
    /** Start the in-memory embedded server when nothing answers at `mongoUrl`; never by default in production. */
    mongoEmbedded: env.bool("MONGO_EMBEDDED", (read) => read("NODE_ENV") !== "production"),
    seedDemoData: env.bool("SEED_DEMO_DATA", false),
    /** The one currency products are priced in (ISO 4217); writes in any other are refused. */
    storeCurrency: storeCurrencyField(),
    /** How long a product stays in the Redis cache; 0 switches the cache off. */
    cacheTtlSeconds: env.int("CATALOG_CACHE_TTL_SECONDS", 300, { min: 0, max: 86_400 }),
    /** How often each replica's search index looks for changes it missed (ms); 0 switches it off. */
    searchCatchUpMs: env.int("SEARCH_CATCH_UP_MS", 5_000, { min: 0, max: 3_600_000 }),
    /** Publish clean reviews by customers who received the product without waiting for a moderator. */
    reviewAutoApproveVerified: env.bool("REVIEW_AUTO_APPROVE_VERIFIED", true),
    /** Words and phrases that hold a review for moderation, comma-separated; `none` for no list. */
    reviewBlockedWords: env
      .string("REVIEW_BLOCKED_WORDS", DEFAULT_BLOCKED_WORDS.join(","))
      .transform((value) => (value.toLowerCase() === "none" ? [] : parseWordList(value.split(",")))),
  })
  .superRefine((config, ctx) => {
    // The embedded server keeps data in memory only: a production catalog must never fall back to it.
    if (config.production && config.mongoEmbedded) {
      ctx.addIssue({ code: "custom", message: "MONGO_EMBEDDED must be false when NODE_ENV=production" });
    }
  });

export type Config = ConfigOf<typeof configSchema>;

export function loadConfig(processEnv: NodeJS.ProcessEnv = process.env): Config {
  return loadConfigFrom(configSchema, processEnv);
}
