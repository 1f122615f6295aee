import { fileURLToPath } from "node:url";

/** The repository root, wherever the command was started from. */
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** Every subgraph, its default port and the schema file it serves. */
export const SUBGRAPHS = [
  { name: "users", port: 4001 },
  { name: "catalog", port: 4002 },
  { name: "orders", port: 4003 },
  { name: "inventory", port: 4004 },
  { name: "insights", port: 4005 },
  { name: "notifications", port: 4006 },
] as const;

export type SubgraphName = (typeof SUBGRAPHS)[number]["name"];

/** A service's entry, from the repository root: what `node` runs to start it as deployed. */
export const serviceEntry = (name: SubgraphName | "gateway"): string =>
  name === "gateway" ? "gateway/src/index.ts" : `subgraphs/${name}/src/index.ts`;

export const schemaPath = (name: string): string => `${repoRoot}schema/${name}.graphql`;
export const SUPERGRAPH_PATH = `${repoRoot}schema/supergraph.graphql`;
