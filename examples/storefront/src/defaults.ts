/** What the CLI uses unless told otherwise: the demo store that `pnpm start` seeds. */
import type { AddressInput } from "./gql/graphql.ts";

/** `pnpm start`'s gateway. */
export const DEFAULT_GATEWAY_URL = "http://localhost:4000/graphql";

/** The demo customer `SEED_DEMO_DATA=true` creates (README.md, Demo data). */
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
