/** What the CLI uses unless told otherwise: the demo store that `pnpm start` seeds. */
import type { AddressInput } from "./gql/graphql.ts";

/** How the gateway's metrics and logs name this client. */
export const CLIENT_NAME = "nexus-example-storefront";
export const CLIENT_VERSION = "1.0.0";

/** `pnpm start`'s gateway. */
export const DEFAULT_GATEWAY_URL = "http://localhost:4000/graphql";

/** The demo customer `SEED_DEMO_DATA=true` creates (README.md, Run it: demo logins). */
export const DEMO_CUSTOMER = { email: "customer@nexus.dev", password: "nexus-customer" } as const;

/** An address in the demo store's United States shipping zone. */
export const DEMO_ADDRESS: AddressInput = {
  name: "Demo Customer",
  line1: "1 Market Street",
  city: "San Francisco",
  region: "CA",
  postalCode: "94105",
  countryCode: "US",
};

export const DEFAULT_CATEGORY = "electronics";
