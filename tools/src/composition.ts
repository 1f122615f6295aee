/**
 * What `pnpm compose` generates from schema/<subgraph>.graphql, and how it is checked:
 *
 * - `supergraph.graphql` — Apollo's composition of the subgraphs (the same code the gateway and
 *   rover use), with each subgraph's default URL; all the gateway loads.
 * - `api.graphql` — the client-facing schema: the supergraph's API schema, without the
 *   `join__`/`link__` machinery and `@inaccessible` elements, descriptions kept. It is what the
 *   gateway answers to introspection, and what clients generate their types from
 *   (schema/README.md).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { composeServices } from "@apollo/composition";
import { Supergraph } from "@apollo/federation-internals";
import { type GraphQLSchema, parse, printSchema } from "graphql";
import { repoRoot, SUBGRAPHS } from "./subgraphs.ts";

/** The checked-in schema folder. */
export const SCHEMA_DIR = `${repoRoot}schema`;

/** The files `pnpm compose` writes into the schema folder, and `generatedSchemas` returns. */
export const GENERATED_SCHEMA_FILES = ["supergraph.graphql", "api.graphql"] as const;
export type GeneratedSchemaFile = (typeof GENERATED_SCHEMA_FILES)[number];

/** Thrown when the subgraphs do not compose; one message per composition error. */
export class CompositionError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Composition failed:\n  - ${problems.join("\n  - ")}`);
    this.name = "CompositionError";
    this.problems = problems;
  }
}

/**
 * The schema clients see: the supergraph without join/link machinery and @inaccessible
 * elements. `supportedFeatures: null` because the supergraph links the access directives
 * `for: SECURITY`, which only the gateway (access-control.ts) knows how to enforce; they
 * change nothing about which operations are valid.
 */
export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return Supergraph.build(supergraphSdl, { supportedFeatures: null }).apiSchema().toGraphQLJSSchema();
}

/** `api.graphql` for a supergraph: its API schema printed by graphql-js, descriptions included. */
export function printApiSchema(supergraphSdl: string): string {
  return `${printSchema(apiSchemaOf(supergraphSdl)).trimEnd()}\n`;
}

/**
 * Composes the SDLs of `schemaDir` and returns every generated file's content, plus
 * composition hints. Throws `CompositionError` when the subgraphs do not compose.
 */
export function generatedSchemas(schemaDir: string = SCHEMA_DIR): {
  files: Record<GeneratedSchemaFile, string>;
  hints: string[];
} {
  const result = composeServices(
    SUBGRAPHS.map(({ name, port }) => ({
      name,
      url: `http://localhost:${port}/graphql`,
      typeDefs: parse(readFileSync(join(schemaDir, `${name}.graphql`), "utf8")),
    })),
  );
  if (result.errors) throw new CompositionError(result.errors.map((error) => error.message));
  const supergraph = `${result.supergraphSdl.trimEnd()}\n`;
  return {
    files: { "supergraph.graphql": supergraph, "api.graphql": printApiSchema(supergraph) },
    hints: (result.hints ?? [])
      .filter((hint) => !isExpectedHint(hint))
      .map((hint) => `${hint.definition.code}: ${hint.message}`),
  };
}

/**
 * Each subgraph's `UserErrorCode` lists only the codes that subgraph returns, so its resolver
 * types refuse any other; the supergraph holds their union, which composition reports value by
 * value. `CacheControlScope` is used by the `@cacheControl` directive alone (no field returns
 * it), which composition reports as unused. Those hints say what is meant and are left out.
 */
function isExpectedHint(hint: { definition: { code: string }; message: string }): boolean {
  return (
    (hint.definition.code === "INCONSISTENT_ENUM_VALUE_FOR_OUTPUT_ENUM" &&
      hint.message.includes('of enum type "UserErrorCode"')) ||
    (hint.definition.code === "UNUSED_ENUM_TYPE" && hint.message.includes('"CacheControlScope"'))
  );
}

/**
 * One message per generated file of `schemaDir` that is missing or differs from what
 * `pnpm compose` writes now; none when all are current.
 */
export function staleSchemaFiles(
  schemaDir: string = SCHEMA_DIR,
  files: Record<GeneratedSchemaFile, string> = generatedSchemas(schemaDir).files,
): string[] {
  return GENERATED_SCHEMA_FILES.flatMap((file) => {
    let current: string | undefined;
    try {
      current = readFileSync(join(schemaDir, file), "utf8");
    } catch {
      current = undefined;
    }
    if (current === files[file]) return [];
    const state = current === undefined ? "is missing" : "is stale";
    return [`schema/${file} ${state}: run \`pnpm compose\` and commit the result.`];
  });
}
