import type { Address } from "@nexus/core";
import { type Kysely, type Selectable, sql } from "kysely";
import type { AddressesTable, Database } from "../db/database.ts";

export type AddressRow = Selectable<AddressesTable>;

const columns = (address: Address) => ({
  name: address.name,
  line1: address.line1,
  line2: address.line2,
  city: address.city,
  region: address.region,
  postal_code: address.postalCode,
  country_code: address.countryCode,
});

/** Every address of the given users, default first, then oldest first. */
export async function findAddressesByUserIds(
  db: Kysely<Database>,
  userIds: readonly string[],
): Promise<AddressRow[]> {
  if (userIds.length === 0) return [];
  return db
    .selectFrom("addresses")
    .selectAll()
    .where("user_id", "in", userIds)
    .orderBy("is_default", "desc")
    .orderBy("created_at")
    .orderBy("id")
    .execute();
}

/**
 * Locks the owner's account row: every change to one address book runs one at a time, so
 * the count limit and the single default hold under concurrent requests.
 */
export async function lockAddressBook(db: Kysely<Database>, userId: string): Promise<{ deleted: boolean }> {
  const row = await db
    .selectFrom("users")
    .select("deleted_at")
    .where("id", "=", userId)
    .forUpdate()
    .executeTakeFirst();
  return { deleted: !row || row.deleted_at !== null };
}

/** The address if it belongs to the user; someone else's address is as absent as a missing one. */
export async function findOwnAddress(
  db: Kysely<Database>,
  userId: string,
  id: string,
): Promise<AddressRow | undefined> {
  return db
    .selectFrom("addresses")
    .selectAll()
    .where("id", "=", id)
    .where("user_id", "=", userId)
    .executeTakeFirst();
}

export async function countAddresses(db: Kysely<Database>, userId: string): Promise<number> {
  const { count } = await db
    .selectFrom("addresses")
    .select((eb) => eb.fn.countAll<string>().as("count"))
    .where("user_id", "=", userId)
    .executeTakeFirstOrThrow();
  return Number(count);
}

export async function insertAddress(
  db: Kysely<Database>,
  userId: string,
  address: Address,
  isDefault: boolean,
): Promise<AddressRow> {
  return db
    .insertInto("addresses")
    .values({ user_id: userId, ...columns(address), is_default: isDefault })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function updateAddress(db: Kysely<Database>, id: string, address: Address): Promise<AddressRow> {
  return db
    .updateTable("addresses")
    .set({ ...columns(address), updated_at: sql<Date>`now()` })
    .where("id", "=", id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteAddress(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom("addresses").where("id", "=", id).execute();
}

export async function clearDefaultAddress(db: Kysely<Database>, userId: string): Promise<void> {
  await db
    .updateTable("addresses")
    .set({ is_default: false, updated_at: sql<Date>`now()` })
    .where("user_id", "=", userId)
    .where("is_default", "=", true)
    .execute();
}

export async function markDefaultAddress(db: Kysely<Database>, id: string): Promise<AddressRow> {
  return db
    .updateTable("addresses")
    .set({ is_default: true, updated_at: sql<Date>`now()` })
    .where("id", "=", id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The user's oldest address, to become the default when the default is removed. */
export async function findOldestAddress(
  db: Kysely<Database>,
  userId: string,
): Promise<AddressRow | undefined> {
  return db
    .selectFrom("addresses")
    .selectAll()
    .where("user_id", "=", userId)
    .orderBy("created_at")
    .orderBy("id")
    .limit(1)
    .executeTakeFirst();
}

export async function deleteAddressesOfUser(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom("addresses").where("user_id", "=", userId).execute();
}
