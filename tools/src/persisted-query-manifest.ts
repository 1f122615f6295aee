/**
 * Persisted query manifests for the clients in schema/operations/<client>/, in Apollo's
 * format (`apollo-persisted-query-manifest`, version 1), written by `pnpm codegen` through
 * `plugin` below and loaded by the gateway at start-up.
 *
 * Bodies are built exactly as `@apollo/generate-persisted-query-manifest` (with its default
 * document transform) builds them, so a manifest that tool writes from the same files has the
 * same ids, and Apollo Client's persisted-queries link sends ids the gateway knows: the
 * operation and every fragment it uses, transitively; `__typename` added to every selection
 * set but the root, by Apollo Client's own `addTypenameToDocument` (its cache does the same to
 * every operation it sends); sorted operations first and then by name
 * (`sortTopLevelDefinitions` of `@apollo/persisted-query-lists`); printed by graphql-js `print`.
 * Other clients never reproduce a body: they look ids up by operation name in the manifest.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { addTypenameToDocument } from "@apollo/client/utilities";
import {
  type DefinitionNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  print,
  type SelectionSetNode,
  validate,
} from "graphql";
import { apiSchemaOf } from "./composition.ts";
import { repoRoot } from "./subgraphs.ts";

export interface PersistedQueryManifestOperation {
  /** sha256 hex of `body`: what clients send as `extensions.persistedQuery.sha256Hash`. */
  id: string;
  name: string;
  type: "query" | "mutation" | "subscription";
  body: string;
}

export interface PersistedQueryManifest {
  format: "apollo-persisted-query-manifest";
  version: 1;
  operations: PersistedQueryManifestOperation[];
}

/** One source file of operations: where it is (for messages) and what it holds. */
export interface OperationSource {
  location: string;
  document: DocumentNode;
}

/** Thrown with every problem of a client's operations at once, one per line. */
export class PersistedOperationsError extends Error {
  readonly problems: readonly string[];

  constructor(client: string, problems: readonly string[]) {
    super(`Persisted operations of "${client}" are invalid:\n  - ${problems.join("\n  - ")}`);
    this.name = "PersistedOperationsError";
    this.problems = problems;
  }
}

export const operationId = (body: string): string => createHash("sha256").update(body).digest("hex");

/** Operations first, then fragments, each kind by name: the order Apollo's tools hash. */
function sortTopLevelDefinitions(definitions: readonly DefinitionNode[]): DefinitionNode[] {
  const nameOf = (definition: DefinitionNode) =>
    definition.kind === Kind.OPERATION_DEFINITION || definition.kind === Kind.FRAGMENT_DEFINITION
      ? (definition.name?.value ?? "")
      : "";
  return [...definitions].sort((a, b) => {
    if (a.kind !== b.kind) return a.kind > b.kind ? -1 : 1;
    const [x, y] = [nameOf(a), nameOf(b)];
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** Names of the fragments a selection set spreads, directly or through other fragments. */
function usedFragments(
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  used = new Set<string>(),
): Set<string> {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FRAGMENT_SPREAD) {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      if (used.has(name)) continue;
      used.add(name);
      if (fragment) usedFragments(fragment.selectionSet, fragments, used);
    } else if (selection.selectionSet) {
      usedFragments(selection.selectionSet, fragments, used);
    }
  }
  return used;
}

/**
 * Builds a client's manifest from its operation files, validated against the API schema.
 * Every problem is reported at once: an anonymous operation, a name used twice, a fragment
 * that is missing or defined twice, and any GraphQL validation error.
 */
export function createPersistedQueryManifest(
  client: string,
  schema: GraphQLSchema,
  sources: readonly OperationSource[],
): PersistedQueryManifest {
  const problems: string[] = [];
  const operations = new Map<string, { node: OperationDefinitionNode; location: string }>();
  const fragments = new Map<string, FragmentDefinitionNode>();
  const fragmentLocations = new Map<string, string>();

  for (const { location, document } of sources) {
    for (const definition of document.definitions) {
      if (definition.kind === Kind.OPERATION_DEFINITION) {
        const name = definition.name?.value;
        if (!name) {
          problems.push(`${location}: every operation needs a name; clients refer to it by name`);
          continue;
        }
        const previous = operations.get(name);
        if (previous) {
          problems.push(`${location}: operation ${name} is already defined in ${previous.location}`);
          continue;
        }
        operations.set(name, { node: definition, location });
      } else if (definition.kind === Kind.FRAGMENT_DEFINITION) {
        const name = definition.name.value;
        const previous = fragmentLocations.get(name);
        if (previous) {
          problems.push(`${location}: fragment ${name} is already defined in ${previous}`);
          continue;
        }
        fragments.set(name, definition);
        fragmentLocations.set(name, location);
      } else {
        problems.push(`${location}: only operations and fragments belong here, found a ${definition.kind}`);
      }
    }
  }
  if (operations.size === 0 && problems.length === 0) {
    problems.push("no operations: add at least one named operation, or remove the folder");
  }

  const manifest: PersistedQueryManifestOperation[] = [];
  for (const [name, { node, location }] of [...operations].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const used = [...usedFragments(node.selectionSet, fragments)];
    const missing = used.filter((fragment) => !fragments.has(fragment));
    if (missing.length > 0) {
      problems.push(`${location}: operation ${name} uses undefined fragment(s) ${missing.join(", ")}`);
      continue;
    }
    const document: DocumentNode = addTypenameToDocument({
      kind: Kind.DOCUMENT,
      definitions: sortTopLevelDefinitions([
        node,
        ...used.flatMap((fragment) => fragments.get(fragment) ?? []),
      ]),
    });
    const errors = validate(schema, document);
    if (errors.length > 0) {
      for (const error of errors) problems.push(`${location}: operation ${name}: ${error.message}`);
      continue;
    }
    const body = print(document);
    manifest.push({ id: operationId(body), name, type: node.operation, body });
  }
  if (problems.length > 0) throw new PersistedOperationsError(client, problems);
  return { format: "apollo-persisted-query-manifest", version: 1, operations: manifest };
}

/** What `pnpm codegen` passes this plugin (see codegen.ts). */
export interface ManifestPluginConfig {
  /** The client whose folder the documents come from, for messages. */
  client: string;
  /** The supergraph whose API schema the operations must be valid against (relative to the repo root). */
  supergraph: string;
}

/**
 * graphql-codegen plugin: the output file is the client's manifest. Codegen's own document
 * validation is switched off for these outputs (codegen.ts), so that every problem is
 * reported here, against the API schema rather than the raw supergraph.
 */
export function plugin(
  _schema: GraphQLSchema,
  documents: readonly { location?: string; document?: DocumentNode }[],
  config: ManifestPluginConfig,
): string {
  const schema = apiSchemaOf(readFileSync(resolve(repoRoot, config.supergraph), "utf8"));
  const sources = documents.flatMap(({ location, document }) =>
    document ? [{ location: location ? relative(repoRoot, location) : "(unknown file)", document }] : [],
  );
  const manifest = createPersistedQueryManifest(config.client, schema, sources);
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
