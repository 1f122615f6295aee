import { isUuid } from "@nexus/core";
import DataLoader from "dataloader";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { type AddressModel, toAddressModel } from "./address.model.ts";
import { findAddressesByUserIds } from "./address.repository.ts";

export function createAddressLoaders(db: Kysely<Database>) {
  return {
    /** Each user's address book, default first: one query for every user in the response. */
    addressesByUserId: new DataLoader<string, AddressModel[]>(async (userIds) => {
      const rows = await findAddressesByUserIds(db, userIds.filter(isUuid));
      const byUser = new Map<string, AddressModel[]>();
      for (const row of rows) {
        const list = byUser.get(row.user_id) ?? [];
        list.push(toAddressModel(row));
        byUser.set(row.user_id, list);
      }
      return userIds.map((id) => byUser.get(id) ?? []);
    }),
  };
}
