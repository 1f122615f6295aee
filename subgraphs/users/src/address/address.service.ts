import { type AddressInput, isUuid, userError, validateAddress } from "@nexus/core";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import type { UserError } from "../user-error.ts";
import { type AddressModel, toAddressModel } from "./address.model.ts";
import {
  clearDefaultAddress,
  countAddresses,
  deleteAddress,
  findOldestAddress,
  findOwnAddress,
  insertAddress,
  lockAddressBook,
  markDefaultAddress,
  updateAddress as updateAddressRow,
} from "./address.repository.ts";

/** Enough for home, work and a few gift recipients; a bound keeps one account from bloating the table. */
export const MAX_ADDRESSES = 20;

export type AddressResult = { ok: true; address: AddressModel } | { ok: false; userErrors: UserError[] };

const notFound = (): AddressResult => ({
  ok: false,
  userErrors: [userError("NOT_FOUND", "No such address in your address book.", ["input", "id"])],
});

/**
 * Every change runs in a transaction that first locks the owner's address book, so the limit
 * and "exactly one default once there is an address" hold under concurrent requests.
 */
const inAddressBook = <T>(
  db: Kysely<Database>,
  userId: string,
  work: (trx: Kysely<Database>, book: { deleted: boolean }) => Promise<T>,
) => db.transaction().execute(async (trx) => work(trx, await lockAddressBook(trx, userId)));

export async function addAddress(
  db: Kysely<Database>,
  userId: string,
  input: { address: AddressInput; makeDefault?: boolean | null },
): Promise<AddressResult> {
  const { address, errors } = validateAddress(input.address, ["input", "address"]);
  if (!address) return { ok: false, userErrors: errors };
  return inAddressBook(db, userId, async (trx, book): Promise<AddressResult> => {
    // An access token outlives the account's deletion by minutes: it must not refill the book.
    if (book.deleted) {
      return { ok: false, userErrors: [userError("ACCOUNT_DELETED", "This account was deleted.")] };
    }
    const count = await countAddresses(trx, userId);
    if (count >= MAX_ADDRESSES) {
      return {
        ok: false,
        userErrors: [userError("ADDRESS_LIMIT", `An address book holds at most ${MAX_ADDRESSES} addresses.`)],
      };
    }
    const makeDefault = count === 0 || input.makeDefault === true;
    if (makeDefault) await clearDefaultAddress(trx, userId);
    return { ok: true, address: toAddressModel(await insertAddress(trx, userId, address, makeDefault)) };
  });
}

export async function updateAddress(
  db: Kysely<Database>,
  userId: string,
  input: { id: string; address: AddressInput },
): Promise<AddressResult> {
  const { address, errors } = validateAddress(input.address, ["input", "address"]);
  if (!address) return { ok: false, userErrors: errors };
  if (!isUuid(input.id)) return notFound();
  return inAddressBook(db, userId, async (trx): Promise<AddressResult> => {
    if (!(await findOwnAddress(trx, userId, input.id))) return notFound();
    return { ok: true, address: toAddressModel(await updateAddressRow(trx, input.id, address)) };
  });
}

export async function removeAddress(
  db: Kysely<Database>,
  userId: string,
  id: string,
): Promise<AddressResult> {
  if (!isUuid(id)) return notFound();
  return inAddressBook(db, userId, async (trx): Promise<AddressResult> => {
    const existing = await findOwnAddress(trx, userId, id);
    if (!existing) return notFound();
    await deleteAddress(trx, id);
    if (existing.is_default) {
      const next = await findOldestAddress(trx, userId);
      if (next) await markDefaultAddress(trx, next.id);
    }
    return { ok: true, address: { ...toAddressModel(existing), isDefault: false } };
  });
}

export async function setDefaultAddress(
  db: Kysely<Database>,
  userId: string,
  id: string,
): Promise<AddressResult> {
  if (!isUuid(id)) return notFound();
  return inAddressBook(db, userId, async (trx): Promise<AddressResult> => {
    if (!(await findOwnAddress(trx, userId, id))) return notFound();
    await clearDefaultAddress(trx, userId);
    return { ok: true, address: toAddressModel(await markDefaultAddress(trx, id)) };
  });
}
