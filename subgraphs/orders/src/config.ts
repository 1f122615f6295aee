import { type ConfigOf, env, loadConfigFrom, serviceConfigSchema, storeCurrencyField } from "@nexus/core";
import { eventsConfigSchema } from "@nexus/events";
import { databaseUrlField } from "@nexus/stores";
import { PAYMENT_PROVIDERS } from "./payment/payment.provider.ts";

const configSchema = serviceConfigSchema("orders", 4003).safeExtend({
  databaseUrl: databaseUrlField("orders"),
  ...eventsConfigSchema.shape,
  /** The catalog subgraph's GraphQL endpoint, asked for current prices and names at checkout. */
  catalogUrl: env.url("CATALOG_URL", "http://127.0.0.1:4002/graphql", ["http:", "https:"]),
  /** A cart that has not changed for this long is deleted. */
  cartTtlDays: env.int("CART_TTL_DAYS", 30, { min: 1, max: 365 }),
  /** Checkout idempotency keys are kept at least this long; never below 24 hours. */
  idempotencyKeyRetentionHours: env.int("IDEMPOTENCY_KEY_RETENTION_HOURS", 48, { min: 24, max: 24 * 90 }),
  /** The inventory subgraph's GraphQL endpoint, asked how many units are available for cart lines. */
  inventoryUrl: env.url("INVENTORY_URL", "http://127.0.0.1:4004/graphql", ["http:", "https:"]),
  /** Whether a visitor may check out a guest cart with an email instead of an account. */
  guestCheckout: env.bool("GUEST_CHECKOUT", false),
  /** Which payment provider captures and refunds payments. */
  paymentProvider: env.oneOf("PAYMENT_PROVIDER", "test", PAYMENT_PROVIDERS),
  /** The users subgraph's GraphQL endpoint, asked for the saved address a checkout names. */
  usersUrl: env.url("USERS_URL", "http://127.0.0.1:4001/graphql", ["http:", "https:"]),
  /** The one currency carts are summed and orders placed in (ISO 4217). */
  storeCurrency: storeCurrencyField(),
  /** Checkout refuses customers whose access token does not say their email is verified. */
  requireVerifiedEmail: env.bool("REQUIRE_VERIFIED_EMAIL", false),
  /** Catalog prices and shipping rates include tax (as in most of Europe); otherwise tax is added at checkout. */
  pricesIncludeTax: env.bool("PRICES_INCLUDE_TAX", false),
  /** A payment capture not recorded after this long (a crash, a provider outage) is tried again. */
  paymentRetryMs: env.int("PAYMENT_RETRY_MS", 10_000, { min: 100, max: 3_600_000 }),
});

export type Config = ConfigOf<typeof configSchema>;

export function loadConfig(processEnv: NodeJS.ProcessEnv = process.env): Config {
  return loadConfigFrom(configSchema, processEnv);
}
