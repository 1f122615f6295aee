import { Kind, parse } from "graphql";

/** A subgraph as the supergraph's `join__Graph` enum declares it. */
export interface SubgraphEndpoint {
  name: string;
  url: string;
}

/**
 * Lists the subgraphs composed into a supergraph, in the order the supergraph declares them.
 * Reading the `@join__graph(name:, url:)` values directly keeps the gateway's config free of
 * a hand-kept service list: a new subgraph gets its `<NAME>_URL` variable by being composed.
 * Throws when the SDL does not parse or declares no subgraph.
 */
export function listSubgraphs(supergraphSdl: string): SubgraphEndpoint[] {
  const subgraphs: SubgraphEndpoint[] = [];
  for (const definition of parse(supergraphSdl).definitions) {
    if (definition.kind !== Kind.ENUM_TYPE_DEFINITION) continue;
    for (const value of definition.values ?? []) {
      for (const directive of value.directives ?? []) {
        if (directive.name.value !== "join__graph") continue;
        const argument = (name: string) => {
          const node = directive.arguments?.find((arg) => arg.name.value === name)?.value;
          return node?.kind === Kind.STRING ? node.value : undefined;
        };
        const name = argument("name");
        const url = argument("url");
        if (name !== undefined && url !== undefined) subgraphs.push({ name, url });
      }
    }
  }
  if (subgraphs.length === 0) throw new Error("it declares no subgraph (no @join__graph values)");
  return subgraphs;
}

/** `users` -> `USERS_URL`; any character that cannot appear in a variable name becomes `_`. */
export function subgraphUrlVariable(name: string): string {
  return subgraphVariable(name, "URL");
}

/** `users` -> `USERS_TIMEOUT_MS`, named like `subgraphUrlVariable`. */
export function subgraphTimeoutVariable(name: string): string {
  return subgraphVariable(name, "TIMEOUT_MS");
}

function subgraphVariable(name: string, suffix: string): string {
  return `${name.toUpperCase().replace(/[^A-Z0-9]+/g, "_")}_${suffix}`;
}
