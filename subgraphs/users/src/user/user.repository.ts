import { type Kysely, type Selectable, sql, type Updateable } from "kysely";
import type { Database, UsersTable } from "../db/database.ts";
import { afterPosition, POSITION_KEY, type Position, positioned } from "../db/position.ts";

export type UserRow = Selectable<UsersTable>;

export async function findUsersByIds(db: Kysely<Database>, ids: readonly string[]): Promise<UserRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom("users").selectAll().where("id", "in", ids).execute();
}

export async function findUserById(db: Kysely<Database>, id: string): Promise<UserRow | undefined> {
  return db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
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

export async function updateUser(
  db: Kysely<Database>,
  id: string,
  patch: Omit<Updateable<UsersTable>, "id" | "updated_at">,
): Promise<UserRow> {
  return db
    .updateTable("users")
    .set({ ...patch, updated_at: sql<Date>`now()` })
    .where("id", "=", id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Serializes role changes (a transaction-scoped advisory lock) and locks the account. Row
 * locks alone would let two admins demoting each other deadlock, or both succeed.
 */
export async function lockUserById(db: Kysely<Database>, id: string): Promise<UserRow | undefined> {
  await sql`SELECT pg_advisory_xact_lock(hashtext('users.role'))`.execute(db);
  return db.selectFrom("users").selectAll().where("id", "=", id).forUpdate().executeTakeFirst();
}

export async function countAdmins(db: Kysely<Database>): Promise<number> {
  const { count } = await db
    .selectFrom("users")
    .select((eb) => eb.fn.countAll<string>().as("count"))
    .where("role", "=", "ADMIN")
    .executeTakeFirstOrThrow();
  return Number(count);
}

export async function countUsers(db: Kysely<Database>): Promise<number> {
  const { count } = await db
    .selectFrom("users")
    .select((eb) => eb.fn.countAll<string>().as("count"))
    .executeTakeFirstOrThrow();
  return Number(count);
}

/** `search` as a literal ILIKE pattern: the client's % and _ match themselves. */
const containing = (search: string) => `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * One page of users, newest first, keyed by (created_at, id) so pages never skip or repeat
 * a user when others sign up meanwhile. Returns one row more than asked, to tell whether
 * another page follows.
 */
export async function listUsers(
  db: Kysely<Database>,
  options: { search: string | null; after: Position | null; limit: number },
): Promise<{ rows: (UserRow & { position: Position })[]; totalCount: number }> {
  let query = db.selectFrom("users");
  if (options.search) {
    const pattern = containing(options.search);
    query = query.where((eb) => eb.or([eb("email", "ilike", pattern), eb("name", "ilike", pattern)]));
  }
  const after = options.after;
  const page = query
    .selectAll()
    .select(POSITION_KEY)
    .$call((q) => (after ? q.where(afterPosition(after)) : q))
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(options.limit + 1)
    .execute();
  const total = query.select((eb) => eb.fn.countAll<string>().as("count")).executeTakeFirstOrThrow();
  const [rows, { count }] = await Promise.all([page, total]);
  return {
    rows: positioned(rows),
    totalCount: Number(count),
  };
}
