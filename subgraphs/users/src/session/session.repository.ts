import { type Kysely, sql } from "kysely";
import type { Database } from "../db/database.ts";

export async function insertFamily(
  db: Kysely<Database>,
  userId: string,
  lifetimeSeconds: number,
): Promise<{ id: string; expires_at: Date }> {
  return db
    .insertInto("refresh_token_families")
    .values({ user_id: userId, expires_at: sql<Date>`now() + make_interval(secs => ${lifetimeSeconds})` })
    .returning(["id", "expires_at"])
    .executeTakeFirstOrThrow();
}

export async function insertRefreshToken(
  db: Kysely<Database>,
  familyId: string,
  tokenHash: Buffer,
): Promise<void> {
  await db.insertInto("refresh_tokens").values({ family_id: familyId, token_hash: tokenHash }).execute();
}

/** The token and its family, both locked: concurrent uses of one token are served one at a time. */
export async function lockRefreshToken(db: Kysely<Database>, tokenHash: Buffer) {
  return db
    .selectFrom("refresh_tokens as t")
    .innerJoin("refresh_token_families as f", "f.id", "t.family_id")
    .select([
      "t.id",
      "t.used_at",
      "f.id as family_id",
      "f.user_id",
      "f.expires_at",
      "f.revoked_at",
      sql<boolean>`f.expires_at <= now()`.as("expired"),
    ])
    .where("t.token_hash", "=", tokenHash)
    .forUpdate()
    .executeTakeFirst();
}

export async function markRefreshTokenUsed(db: Kysely<Database>, id: string): Promise<void> {
  await db.updateTable("refresh_tokens").set({ used_at: sql`now()` }).where("id", "=", id).execute();
}

export async function findFamilyIdByTokenHash(
  db: Kysely<Database>,
  tokenHash: Buffer,
): Promise<string | undefined> {
  const row = await db
    .selectFrom("refresh_tokens")
    .select("family_id")
    .where("token_hash", "=", tokenHash)
    .executeTakeFirst();
  return row?.family_id;
}

export async function revokeFamily(db: Kysely<Database>, familyId: string, reason: string): Promise<void> {
  await db
    .updateTable("refresh_token_families")
    .set({ revoked_at: sql`now()`, revoked_reason: reason })
    .where("id", "=", familyId)
    .where("revoked_at", "is", null)
    .execute();
}

export async function revokeFamiliesOfUser(
  db: Kysely<Database>,
  userId: string,
  reason: string,
): Promise<void> {
  await db
    .updateTable("refresh_token_families")
    .set({ revoked_at: sql`now()`, revoked_reason: reason })
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .execute();
}
