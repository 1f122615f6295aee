import type { UserSnapshot } from "@nexus/events";
import { type Kysely, sql, type Transaction } from "kysely";
import type { ContactsTable, Database } from "../db/database.ts";

type Db = Kysely<Database> | Transaction<Database>;

export type Contact = Pick<
  ContactsTable,
  "user_id" | "email" | "name" | "role" | "email_verified" | "deleted"
>;

/**
 * Writes an account's snapshot unless the row already holds a newer one (or the account was
 * deleted): events from one account can arrive in any order, and the newest `occurredAt` wins.
 * Returns whether the snapshot was written.
 */
export async function upsertContact(db: Db, user: UserSnapshot, occurredAt: Date): Promise<boolean> {
  const result = await db
    .insertInto("contacts")
    .values({
      user_id: user.id,
      email: user.email?.toLowerCase() ?? null,
      name: user.name,
      role: user.role,
      email_verified: user.emailVerified,
      deleted: false,
      version_at: occurredAt,
    })
    .onConflict((oc) =>
      oc
        .column("user_id")
        .doUpdateSet((eb) => ({
          email: eb.ref("excluded.email"),
          name: eb.ref("excluded.name"),
          role: eb.ref("excluded.role"),
          email_verified: eb.ref("excluded.email_verified"),
          version_at: eb.ref("excluded.version_at"),
          updated_at: sql<Date>`now()`,
        }))
        .where("contacts.deleted", "=", false)
        .where("contacts.version_at", "<", (eb) => eb.ref("excluded.version_at")),
    )
    .executeTakeFirst();
  return result.numInsertedOrUpdatedRows === 1n;
}

/** Keeps only a tombstone of a deleted account, so no later snapshot brings its data back. */
export async function tombstoneContact(db: Db, userId: string, occurredAt: Date): Promise<void> {
  await db
    .insertInto("contacts")
    .values({
      user_id: userId,
      email: null,
      name: null,
      role: null,
      email_verified: false,
      deleted: true,
      version_at: occurredAt,
    })
    .onConflict((oc) =>
      oc.column("user_id").doUpdateSet({
        email: null,
        name: null,
        role: null,
        email_verified: false,
        deleted: true,
        updated_at: sql<Date>`now()`,
      }),
    )
    .execute();
}

export async function findContact(db: Db, userId: string): Promise<Contact | undefined> {
  return db
    .selectFrom("contacts")
    .select(["user_id", "email", "name", "role", "email_verified", "deleted"])
    .where("user_id", "=", userId)
    .executeTakeFirst();
}

/** Every admin account that still exists, for staff messages. */
export async function findAdminContacts(db: Db): Promise<Contact[]> {
  return db
    .selectFrom("contacts")
    .select(["user_id", "email", "name", "role", "email_verified", "deleted"])
    .where("role", "=", "ADMIN")
    .where("deleted", "=", false)
    .orderBy("user_id")
    .execute();
}
