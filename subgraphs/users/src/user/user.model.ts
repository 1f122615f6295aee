import type { Role } from "@nexus/core";
import type { UserRow } from "./user.repository.ts";

/** What User resolvers receive: the row without its password hash. */
export interface UserModel {
  id: string;
  email: string;
  name: string;
  role: Role;
  createdAt: Date;
}

export const toUserModel = (row: UserRow): UserModel => ({
  id: row.id,
  email: row.email,
  name: row.name,
  role: row.role,
  createdAt: row.created_at,
});
