import { createEnvReader, readServiceConfig, type ServiceConfig } from "@nexus/core";
import { type EventsConfig, readEventsConfig } from "@nexus/events";
import { readDatabaseUrl } from "@nexus/stores";
import { PAYMENT_PROVIDERS, type PaymentProviderName } from "./payment/payment.provider.ts";

export interface Config extends ServiceConfig, EventsConfig {
  databaseUrl: string;
  /** The catalog subgraph's GraphQL endpoint, asked for current prices and names at checkout. */
  catalogUrl: string;
  /** A cart that has not changed for this long is deleted. */
  cartTtlDays: number;
  /** Checkout idempotency keys are kept at least this long; never below 24 hours. */
  idempotencyKeyRetentionHours: number;
  /** Which payment provider captures and refunds payments. */
  paymentProvider: PaymentProviderName;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const read = createEnvReader(env);
  const service = readServiceConfig(read, "orders", 4003);
  const config: Config = {
    ...service,
    databaseUrl: readDatabaseUrl(read, "orders"),
    ...readEventsConfig(read),
    catalogUrl: read.url("CATALOG_URL", "http://127.0.0.1:4002/graphql", ["http:", "https:"]),
    cartTtlDays: read.int("CART_TTL_DAYS", 30, { min: 1, max: 365 }),
    idempotencyKeyRetentionHours: read.int("IDEMPOTENCY_KEY_RETENTION_HOURS", 48, { min: 24, max: 24 * 90 }),
    paymentProvider: read.oneOf("PAYMENT_PROVIDER", "test", PAYMENT_PROVIDERS),
  };
  read.done();
  return Object.freeze(config);
}
