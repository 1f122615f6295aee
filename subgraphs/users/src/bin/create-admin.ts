/**
 * Creates the first admin, or promotes an existing account: the only way to an ADMIN role
 * besides an admin's `setUserRole`. No public mutation can create one.
 *
 *   pnpm create-admin --email ops@example.com --name "Store Ops"
 *
 * The password of a new account comes from NEXUS_ADMIN_PASSWORD, or is asked for on the
 * terminal. An existing account keeps its password and only gains the role.
 */
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { openPostgres } from "@nexus/stores";
import { loadConfig } from "../config.ts";
import type { Database } from "../db/database.ts";
import { migrations } from "../db/migrations.ts";
import { findUserByEmail } from "../user/user.repository.ts";
import { createUser, normalizeEmail, setUserRole } from "../user/user.service.ts";

const { values } = parseArgs({
  options: { email: { type: "string" }, name: { type: "string", default: "Administrator" } },
});
if (!values.email) {
  console.error('Usage: pnpm create-admin --email <email> [--name "<name>"]');
  process.exit(2);
}

async function readPassword(): Promise<string> {
  if (process.env.NEXUS_ADMIN_PASSWORD) return process.env.NEXUS_ADMIN_PASSWORD;
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await terminal.question("Password for the new admin (8 to 128 characters): ");
  } finally {
    terminal.close();
  }
}

const { NEXUS_ADMIN_PASSWORD: _password, ...env } = process.env;
const config = loadConfig(env);
const db = await openPostgres<Database>(config.databaseUrl, migrations);
try {
  const existing = await findUserByEmail(db, normalizeEmail(values.email));
  const account = existing
    ? await setUserRole({ db }, { userId: existing.id, role: "ADMIN" })
    : await createUser(
        db,
        { email: values.email, name: values.name, password: await readPassword() },
        "ADMIN",
      );
  if (account.ok) {
    console.log(`${existing ? "Promoted" : "Created"} admin ${account.user.email} (${account.user.id}).`);
  } else {
    for (const error of account.userErrors) console.error(`${error.code}: ${error.message}`);
    process.exitCode = 1;
  }
} finally {
  await db.destroy();
}
