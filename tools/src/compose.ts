/**
 * Composes schema/<subgraph>.graphql into schema/supergraph.graphql with Apollo's
 * composition library (the same code the gateway and rover use).
 *   pnpm compose           write the supergraph
 *   pnpm compose --check   fail when composition fails or the checked-in file is stale
 */

import { readFileSync, writeFileSync } from "node:fs";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";
import { SUBGRAPHS, SUPERGRAPH_PATH, schemaPath } from "./subgraphs.ts";

const result = composeServices(
  SUBGRAPHS.map(({ name, port }) => ({
    name,
    url: `http://localhost:${port}/graphql`,
    typeDefs: parse(readFileSync(schemaPath(name), "utf8")),
  })),
);

if (result.errors) {
  console.error("Composition failed:");
  for (const error of result.errors) console.error(`  - ${error.message}`);
  process.exit(1);
}
for (const hint of result.hints ?? []) console.warn(`hint: ${hint.definition.code}: ${hint.message}`);

const supergraph = `${result.supergraphSdl.trimEnd()}\n`;
if (process.argv.includes("--check")) {
  const current = readFileSync(SUPERGRAPH_PATH, "utf8");
  if (current !== supergraph) {
    console.error("schema/supergraph.graphql is stale: run `pnpm compose` and commit the result.");
    process.exit(1);
  }
  console.log("schema/supergraph.graphql is up to date.");
} else {
  writeFileSync(SUPERGRAPH_PATH, supergraph);
  console.log(`Wrote schema/supergraph.graphql from ${SUBGRAPHS.length} subgraphs.`);
}
