import { randomBytes } from "node:crypto";
import type { Logger } from "@nexus/core";
import type { Kysely } from "kysely";
import { insertPartnerApiKey, insertPartnerClient } from "../partner/partner.repository.ts";
import { hashApiKey } from "../partner/partner.service.ts";
import { findUserByEmail } from "../user/user.repository.ts";
import { hashPassword, insertAccount } from "../user/user.service.ts";
import type { Database } from "./database.ts";
import { DEMO_ACCOUNTS, DEMO_PARTNER, DEMO_REVIEWERS } from "./demo.ts";

/**
 * Creates the demo accounts, the authors of the demo reviews and the demo partner client
 * where they are missing; never touches existing ones. Demo accounts count as verified, and are
 * announced (UserRegistered) like any other, so notifications can write to them.
 */
export async function seedDemoData(db: Kysely<Database>, logger: Logger): Promise<void> {
  for (const account of DEMO_ACCOUNTS) {
    if (await findUserByEmail(db, account.email)) continue;
    await insertAccount(db, {
      ...account,
      passwordHash: await hashPassword(account.password),
      emailVerified: true,
    });
    logger.info("seeded demo account", { email: account.email, role: account.role });
  }

  // Reviewers keep the ids catalog's demo reviews point to. Nobody knows their password: it is
  // random, hashed once for all of them, and only when one of them is missing.
  const existing = await db
    .selectFrom("users")
    .select("id")
    .where(
      "id",
      "in",
      DEMO_REVIEWERS.map((reviewer) => reviewer.id),
    )
    .execute();
  if (existing.length < DEMO_REVIEWERS.length) {
    const passwordHash = await hashPassword(randomBytes(32).toString("base64url"));
    const created = await db
      .insertInto("users")
      .values(
        DEMO_REVIEWERS.map((reviewer) => ({
          ...reviewer,
          role: "CUSTOMER" as const,
          password_hash: passwordHash,
        })),
      )
      .onConflict((oc) => oc.doNothing())
      .returning("id")
      .execute();
    logger.info("seeded demo reviewers", { count: created.length });
  }

  const partner = await db.transaction().execute(async (trx) => {
    const client = await insertPartnerClient(trx, { name: DEMO_PARTNER.name, createdBy: null });
    if (client) {
      await insertPartnerApiKey(trx, {
        clientId: client.id,
        keyPrefix: DEMO_PARTNER.apiKey.slice(0, 12),
        keyHash: hashApiKey(DEMO_PARTNER.apiKey),
        createdBy: null,
      });
    }
    return client;
  });
  if (partner) logger.info("seeded demo partner client", { name: partner.name });
}
