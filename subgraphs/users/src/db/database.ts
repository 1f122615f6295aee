import type { ColumnType, Generated } from "kysely";

export interface UsersTable {
  id: Generated<string>;
  email: string;
  password_hash: string;
  name: string;
  role: "CUSTOMER" | "ADMIN" | "PARTNER";
  created_at: ColumnType<Date, never, never>;
}

export interface Database {
  users: UsersTable;
}
