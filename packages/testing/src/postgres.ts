import { randomBytes } from "node:crypto";
import { databaseUrl, dropDatabase, openPostgres } from "@nexus/stores";
import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

export const TEST_SERVER_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestPostgres<DB> {
  db: Kysely<DB>;
  url: string;
  /** Every SQL statement run through `db`, in order; clear it between assertions. */
  queries: string[];
  drop(): Promise<void>;
}

/** A fresh, migrated database per test file, so files run in parallel without sharing rows. */
export async function createTestPostgres<DB>(
  label: string,
  migrations: Record<string, Migration>,
): Promise<TestPostgres<DB>> {
  const url = databaseUrl(TEST_SERVER_URL, `nexus_test_${label}_${randomBytes(4).toString("hex")}`);
  const queries: string[] = [];
  const db = await openPostgres<DB>(url, migrations, { onQuery: (sql) => queries.push(sql) });
  queries.length = 0;
  return {
    db,
    url,
    queries,
    async drop() {
      await db.destroy();
      await dropDatabase(url);
    },
  };
}
