/**
 * CI guard: fails when the generated resolver types or persisted query manifests differ from
 * what `pnpm codegen` writes now, i.e. someone changed an SDL, an operation or codegen.ts
 * without regenerating, or left the manifest of a client whose operations are gone.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { repoRoot } from "./subgraphs.ts";

const OPERATIONS = `${repoRoot}schema/operations`;
const MANIFEST = "persisted-query-manifest.json";

execFileSync("pnpm", ["codegen", "--silent"], { cwd: repoRoot, stdio: "inherit" });
const changed = execFileSync(
  "git",
  ["status", "--porcelain", "--", "subgraphs/*/src/__generated__", `schema/operations/*/${MANIFEST}`],
  { cwd: repoRoot, encoding: "utf8" },
).trim();
if (changed) {
  console.error(`Generated files are stale: run \`pnpm codegen\` and commit the result.\n${changed}`);
  process.exit(1);
}

// Codegen writes a manifest only for folders with operations, so it never removes one.
const orphans = readdirSync(OPERATIONS, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .filter(
    (client) =>
      existsSync(`${OPERATIONS}/${client}/${MANIFEST}`) &&
      !readdirSync(`${OPERATIONS}/${client}`).some((file) => file.endsWith(".graphql")),
  );
if (orphans.length > 0) {
  console.error(
    `These clients have a ${MANIFEST} but no operations; delete it or restore them: ${orphans.join(", ")}`,
  );
  process.exit(1);
}
console.log("Generated resolver types and persisted query manifests are up to date.");
