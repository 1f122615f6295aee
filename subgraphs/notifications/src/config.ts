import { type ConfigOf, env, loadConfigFrom, serviceConfigSchema } from "@nexus/core";
import { eventsConfigSchema } from "@nexus/events";
import { databaseUrlField } from "@nexus/stores";

/** Where `pnpm start` runs its local mail catcher. */
export const LOCAL_SMTP_URL = "smtp://127.0.0.1:1025";

/** `SMTP_URL`: unset means the local catcher (refused in production, see below). */
const smtpUrlField = env.field<string | undefined>((read, problem) => {
  const value = read("SMTP_URL");
  if (value === undefined) return undefined;
  try {
    if (["smtp:", "smtps:"].includes(new URL(value).protocol)) return value;
  } catch {
    // reported below
  }
  problem("SMTP_URL must be an smtp:// or smtps:// URL (credentials in the URL when the server wants them)");
  return undefined;
});

/** `STAFF_ALERT_EMAILS`: a comma-separated list, lower-cased. */
const staffAlertEmailsField = env.field<string[]>((read, problem) => {
  const addresses = (read("STAFF_ALERT_EMAILS") ?? "")
    .split(",")
    .map((address) => address.trim().toLowerCase())
    .filter((address) => address.length > 0);
  for (const address of addresses) {
    if (!/^[^\s@]+@[^\s@]+$/.test(address))
      problem(`STAFF_ALERT_EMAILS holds "${address}", not an email address`);
  }
  return addresses;
});

const configSchema = serviceConfigSchema("notifications", 4006)
  .safeExtend({
    databaseUrl: databaseUrlField("notifications"),
    ...eventsConfigSchema.shape,
    /**
     * The SMTP server mail is sent through (`smtp://` or `smtps://`, credentials in the URL).
     * Required in production; elsewhere it defaults to the local catcher `pnpm start` runs.
     */
    smtpUrl: smtpUrlField,
    /** The sender of every message, e.g. `Nexus Store <store@example.com>`. */
    mailFrom: env.string("MAIL_FROM", "Nexus Store <store@nexus.localhost>"),
    /** The store's name as messages show it. */
    storeName: env.string("STORE_NAME", "Nexus Store"),
    /** The storefront's base URL: every link in a message is built from it. */
    storeUrl: env.url("STORE_URL", "http://localhost:3000", ["http:", "https:"]),
    /** Where customers write for help; shown in every message. */
    storeSupportEmail: env.string("STORE_SUPPORT_EMAIL", "support@nexus.localhost"),
    /** Addresses that get staff messages (low stock, failed events) besides every admin. */
    staffAlertEmails: staffAlertEmailsField,
    /**
     * Emails each replica's sender has in flight at once. More than the transport's four SMTP
     * connections on purpose: while some wait on the server, others are rendered and recorded.
     */
    mailConcurrency: env.int("MAIL_SEND_CONCURRENCY", 16, { min: 1, max: 64 }),
    /** Attempts at an email before it is recorded FAILED. */
    mailAttempts: env.int("MAIL_SEND_ATTEMPTS", 8, { min: 1, max: 50 }),
    /** Delay before the first retry of an email; each further retry waits twice as long (capped at an hour). */
    mailBackoffMs: env.int("MAIL_RETRY_BACKOFF_MS", 5000, { min: 10, max: 3_600_000 }),
    /** How often the sender looks for due emails besides being woken by each commit (retries, other replicas' work). */
    mailPollMs: env.int("MAIL_POLL_MS", 1000, { min: 10, max: 60_000 }),
    /** Events the consumer applies at once. */
    eventConcurrency: env.int("NOTIFICATIONS_EVENT_CONCURRENCY", 8, { min: 1, max: 256 }),
  })
  .superRefine((config, ctx) => {
    if (config.production && config.smtpUrl === undefined) {
      ctx.addIssue({
        code: "custom",
        message:
          "SMTP_URL is required when NODE_ENV=production (e.g. smtps://user:password@smtp.example.com)",
      });
    }
  })
  .transform((config) => ({ ...config, smtpUrl: config.smtpUrl ?? LOCAL_SMTP_URL }));

export type Config = ConfigOf<typeof configSchema>;

export function loadConfig(processEnv: NodeJS.ProcessEnv = process.env): Config {
  return loadConfigFrom(configSchema, processEnv);
}
