/**
 * CI guard: fails when the composed schemas (schema/supergraph.graphql, schema/api.graphql)
 * differ from what `pnpm compose` writes now, or the generated resolver types, persisted
 * query manifests or example clients' typed operations (examples/<name>/src/gql/) from what
 * `pnpm codegen` writes now, i.e. someone changed an SDL, an operation or a codegen config
 * without regenerating, or left the manifest of a client whose operations are gone.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { CompositionError, staleSchemaFiles } from "./composition.ts";
import { repoRoot } from "./subgraphs.ts";

const OPERATIONS = `${repoRoot}schema/operations`;
const MANIFEST = "persisted-query-manifest.json";

// First, since codegen reads the supergraph.
let staleSchemas: string[];
try {
  staleSchemas = staleSchemaFiles();
} catch (error) {
  if (!(error instanceof CompositionError)) throw error;
  console.error(error.message);
  process.exit(1);
}
if (staleSchemas.length > 0) {
  for (const message of staleSchemas) console.error(message);
  process.exit(1);
}

execFileSync("pnpm", ["codegen", "--silent"], { cwd: repoRoot, stdio: "inherit" });
const changed = execFileSync(
  "git",
  [
    "status",
    "--porcelain",
    "--",
    // The trailing `/*`: a pathspec with a wildcard must match the whole path of a changed file.
    "subgraphs/*/src/__generated__/*",
    `schema/operations/*/${MANIFEST}`,
    "examples/*/src/gql/*",
  ],
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
console.log(
  "Composed schemas, generated resolver types, persisted query manifests and example clients' operations are up to date.",
);
