import type { Logger } from "@nexus/core";
import { DEMO_ACCOUNTS } from "@nexus/demo";
import type { Kysely } from "kysely";
import { findUserByEmail, insertUser } from "../user/user.repository.ts";
import { hashPassword } from "../user/user.service.ts";
import type { Database } from "./database.ts";

/** Creates the demo accounts that are missing; never touches existing ones. */
export async function seedDemoData(db: Kysely<Database>, logger: Logger): Promise<void> {
  for (const account of DEMO_ACCOUNTS) {
    if (await findUserByEmail(db, account.email)) continue;
    await insertUser(db, { ...account, passwordHash: await hashPassword(account.password) });
    logger.info("seeded demo account", { email: account.email, role: account.role });
  }
}
