import type { PartnerClientModel } from "../partner/partner.model.ts";
import type { UserModel } from "../user/user.model.ts";

/**
 * The users subgraph's part of the demo data set (`SEED_DEMO_DATA=true`): sign-in accounts, the
 * authors of catalog's demo reviews and a partner client. Fixed values, so `pnpm start`, the
 * end-to-end tests and the fuzz can sign in with them.
 */

/** An account someone signs in with: its model's fields plus the password the seed hashes. */
export type DemoAccount = Pick<UserModel, "email" | "name" | "role"> & { password: string };

export const DEMO_ACCOUNTS = [
  { email: "customer@nexus.dev", password: "nexus-customer", name: "Demo Customer", role: "CUSTOMER" },
  { email: "admin@nexus.dev", password: "nexus-admin", name: "Demo Admin", role: "ADMIN" },
] as const satisfies readonly DemoAccount[];

/**
 * A partner client for trying partner access locally (`x-api-key`). Its key is public, so
 * it is only ever created with the demo data, which production never seeds.
 */
export const DEMO_PARTNER = {
  name: "demo-partner",
  apiKey: "nxp_demopart_local-demo-partner-key-never-use-in-prodxxx",
} as const satisfies Pick<PartnerClientModel, "name"> & { apiKey: string };

/** An author of demo reviews: nobody signs in as one. */
export type DemoReviewer = Pick<UserModel, "id" | "name"> & { email: string };

const FIRST_NAMES = ["Ada", "Bruno", "Chloé", "Dmitri", "Esra", "Farid", "Greta", "Hiro", "Inès", "Jonas"];
const LAST_NAMES = ["Keller", "Mendes"];

/**
 * Accounts that wrote catalog's demo reviews. Their ids (UUID version 4 shape) are the ones
 * catalog's demo data (subgraphs/catalog/src/db/demo.ts) gives as review authors; subgraphs
 * share no code, so tools/src/demo.test.ts checks that the two lists agree.
 */
export const DEMO_REVIEWERS: readonly DemoReviewer[] = Array.from({ length: 20 }, (_, index) => {
  const n = index + 1;
  const hex = n.toString(16).padStart(12, "0");
  return {
    id: `d3e0c0de-0000-4000-8000-${hex}`,
    email: `reviewer${String(n).padStart(2, "0")}@nexus.dev`,
    name: `${FIRST_NAMES[index % FIRST_NAMES.length]} ${LAST_NAMES[Math.floor(index / FIRST_NAMES.length)]}`,
  };
});
