import type { Kysely, Selectable } from "kysely";
import type { Database, UsersTable } from "../db/database.ts";

export type UserRow = Selectable<UsersTable>;

export async function findUsersByIds(db: Kysely<Database>, ids: readonly string[]): Promise<UserRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom("users").selectAll().where("id", "in", ids).execute();
}

export async function findUserByEmail(db: Kysely<Database>, email: string): Promise<UserRow | undefined> {
  return db.selectFrom("users").selectAll().where("email", "=", email).executeTakeFirst();
}

/** Inserts a user; returns undefined when the email is already taken (unique index). */
export async function insertUser(
  db: Kysely<Database>,
  user: { email: string; passwordHash: string; name: string; role: UserRow["role"] },
): Promise<UserRow | undefined> {
  return db
    .insertInto("users")
    .values({ email: user.email, password_hash: user.passwordHash, name: user.name, role: user.role })
    .onConflict((oc) => oc.column("email").doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function countUsers(db: Kysely<Database>): Promise<number> {
  const { count } = await db
    .selectFrom("users")
    .select((eb) => eb.fn.countAll<string>().as("count"))
    .executeTakeFirstOrThrow();
  return Number(count);
}
