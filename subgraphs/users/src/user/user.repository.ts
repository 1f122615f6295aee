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

/**
 * Inserts a user; returns undefined when the email is already taken (unique index). A null
 * password makes an account that cannot sign in until its owner sets one by the reset flow.
 */
export async function insertUser(
  db: Kysely<Database>,
  user: {
    email: string;
    passwordHash: string | null;
    name: string;
    role: UserRow["role"];
    emailVerified?: boolean;
  },
): Promise<UserRow | undefined> {
  return db
    .insertInto("users")
    .values({
      email: user.email,
      password_hash: user.passwordHash,
      name: user.name,
      role: user.role,
      email_verified: user.emailVerified ?? false,
    })
    .onConflict((oc) => oc.column("email").doNothing())
    .returningAll()
    .executeTakeFirst();
}

/**
 * Inserts the imported customers whose external id is not taken, in one statement, and returns
 * the ids of the rows it inserted; the others (imported before, or by a concurrent import) are
 * left as they are. Rows go in sorted by external id: an insert waits on another's uncommitted
 * row with the same key, so two imports of overlapping batches in different orders would each
 * wait for the other (a deadlock) unless both take the keys in one order.
 */
export async function insertImportedCustomers(
  db: Kysely<Database>,
  customers: readonly { externalId: string; countryCode: string | null; name: string }[],
): Promise<UserRow[]> {
  if (customers.length === 0) return [];
  const sorted = [...customers].sort((a, b) =>
    a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0,
  );
  return db
    .insertInto("users")
    .values(
      sorted.map((customer) => ({
        external_id: customer.externalId,
        country_code: customer.countryCode,
        name: customer.name,
        role: "CUSTOMER" as const,
      })),
    )
    .onConflict((oc) => oc.column("external_id").doNothing())
    .returningAll()
    .execute();
}

export async function findUsersByExternalIds(
  db: Kysely<Database>,
  externalIds: readonly string[],
): Promise<UserRow[]> {
  if (externalIds.length === 0) return [];
  return db.selectFrom("users").selectAll().where("external_id", "in", externalIds).execute();
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

/** The account locked for update, for changes that must see and write it in one go. */
export async function lockUser(db: Kysely<Database>, id: string): Promise<UserRow | undefined> {
  return db.selectFrom("users").selectAll().where("id", "=", id).forUpdate().executeTakeFirst();
}

/** Whether a write failed because another account holds the email (the unique index on email). */
export function isEmailTaken(error: unknown): boolean {
  return (
    error instanceof Error &&
    "code" in error &&
    error.code === "23505" &&
    "constraint" in error &&
    error.constraint === "users_email_key"
  );
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
