import { type Kysely, type Selectable, sql } from "kysely";
import type { AccountTokenPurpose, AccountTokensTable, Database } from "../db/database.ts";

export type AccountTokenRow = Selectable<AccountTokensTable> & { expired: boolean };

/** Tokens that stand in for one another: a new one replaces the unused older ones. */
export const TOKEN_FAMILIES: Record<AccountTokenPurpose, AccountTokenPurpose[]> = {
  reset: ["reset", "invite"],
  invite: ["reset", "invite"],
  verify: ["verify"],
};

/** Marks the account's unused tokens of these purposes superseded; none given means every purpose. */
export async function supersedeTokens(
  db: Kysely<Database>,
  userId: string,
  purposes?: readonly AccountTokenPurpose[],
): Promise<void> {
  await db
    .updateTable("account_tokens")
    .set({ superseded_at: sql`now()` })
    .where("user_id", "=", userId)
    .where("used_at", "is", null)
    .where("superseded_at", "is", null)
    .$call((q) => (purposes ? q.where("purpose", "in", purposes) : q))
    .execute();
}

export async function insertToken(
  db: Kysely<Database>,
  token: {
    userId: string;
    purpose: AccountTokenPurpose;
    tokenHash: Buffer;
    email: string;
    lifetimeSeconds: number;
  },
): Promise<{ expires_at: Date }> {
  return db
    .insertInto("account_tokens")
    .values({
      user_id: token.userId,
      purpose: token.purpose,
      token_hash: token.tokenHash,
      email: token.email,
      expires_at: sql<Date>`now() + make_interval(secs => ${token.lifetimeSeconds})`,
    })
    .returning("expires_at")
    .executeTakeFirstOrThrow();
}

const withExpired = sql<boolean>`expires_at <= now()`.as("expired");

const tokenQuery = (db: Kysely<Database>, tokenHash: Buffer, purposes: readonly AccountTokenPurpose[]) =>
  db
    .selectFrom("account_tokens")
    .selectAll()
    .select(withExpired)
    .where("token_hash", "=", tokenHash)
    .where("purpose", "in", purposes);

/** A token of one of these purposes, without locking it: a cheap look before costly work. */
export async function findToken(
  db: Kysely<Database>,
  tokenHash: Buffer,
  purposes: readonly AccountTokenPurpose[],
): Promise<AccountTokenRow | undefined> {
  return tokenQuery(db, tokenHash, purposes).executeTakeFirst();
}

/** The token locked for update: concurrent uses of one token are served one at a time. */
export async function lockToken(
  db: Kysely<Database>,
  tokenHash: Buffer,
  purposes: readonly AccountTokenPurpose[],
): Promise<AccountTokenRow | undefined> {
  return tokenQuery(db, tokenHash, purposes).forUpdate().executeTakeFirst();
}

export async function markTokenUsed(db: Kysely<Database>, id: string): Promise<void> {
  await db.updateTable("account_tokens").set({ used_at: sql`now()` }).where("id", "=", id).execute();
}

export async function deleteTokensOfUser(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom("account_tokens").where("user_id", "=", userId).execute();
}
