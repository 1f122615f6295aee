/**
 * Composes schema/<subgraph>.graphql into schema/supergraph.graphql with Apollo's
 * composition library (the same code the gateway and rover use), and writes the client-facing
 * API schema next to it as schema/api.graphql (composition.ts).
 *   pnpm compose           write both files
 *   pnpm compose --check   fail when composition fails or a checked-in file is stale
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CompositionError,
  GENERATED_SCHEMA_FILES,
  generatedSchemas,
  SCHEMA_DIR,
  staleSchemaFiles,
} from "./composition.ts";
import { SUBGRAPHS } from "./subgraphs.ts";

try {
  const { files, hints } = generatedSchemas();
  for (const hint of hints) console.warn(`hint: ${hint}`);
  if (process.argv.includes("--check")) {
    const stale = staleSchemaFiles(SCHEMA_DIR, files);
    if (stale.length > 0) {
      for (const message of stale) console.error(message);
      process.exit(1);
    }
    console.log(`${GENERATED_SCHEMA_FILES.map((file) => `schema/${file}`).join(" and ")} are up to date.`);
  } else {
    for (const file of GENERATED_SCHEMA_FILES) writeFileSync(join(SCHEMA_DIR, file), files[file]);
    console.log(
      `Wrote ${GENERATED_SCHEMA_FILES.map((file) => `schema/${file}`).join(" and ")} from ${SUBGRAPHS.length} subgraphs.`,
    );
  }
} catch (error) {
  if (!(error instanceof CompositionError)) throw error;
  console.error(error.message);
  process.exit(1);
}
