import { isUuid } from "@nexus/core";
import DataLoader from "dataloader";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { toUserModel, type UserModel } from "./user.model.ts";
import { findUsersByIds } from "./user.repository.ts";

export function createUserLoaders(db: Kysely<Database>) {
  return {
    userById: new DataLoader<string, UserModel | null>(async (ids) => {
      const rows = await findUsersByIds(db, ids.filter(isUuid));
      const byId = new Map(rows.map((row) => [row.id, toUserModel(row)]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  };
}

export type UserLoaders = ReturnType<typeof createUserLoaders>;
