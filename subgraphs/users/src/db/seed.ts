import type { Logger } from "@nexus/core";
import { DEMO_ACCOUNTS, DEMO_PARTNER } from "@nexus/demo";
import type { Kysely } from "kysely";
import { insertPartnerClient } from "../partner/partner.repository.ts";
import { hashApiKey } from "../partner/partner.service.ts";
import { findUserByEmail, insertUser } from "../user/user.repository.ts";
import { hashPassword } from "../user/user.service.ts";
import type { Database } from "./database.ts";

/** Creates the demo accounts and partner client that are missing; never touches existing ones. */
export async function seedDemoData(db: Kysely<Database>, logger: Logger): Promise<void> {
  for (const account of DEMO_ACCOUNTS) {
    if (await findUserByEmail(db, account.email)) continue;
    await insertUser(db, { ...account, passwordHash: await hashPassword(account.password) });
    logger.info("seeded demo account", { email: account.email, role: account.role });
  }
  const partner = await insertPartnerClient(db, {
    name: DEMO_PARTNER.name,
    keyPrefix: DEMO_PARTNER.apiKey.slice(0, 12),
    keyHash: hashApiKey(DEMO_PARTNER.apiKey),
    createdBy: null,
  });
  if (partner) logger.info("seeded demo partner client", { name: partner.name });
}
