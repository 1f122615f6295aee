import { createHash } from "node:crypto";
import { type DocumentNode, print } from "graphql";

/**
 * Who may be served an entry: `shared` for every viewer whose answer is the same (anonymous
 * shoppers and customers, for operations public as a whole), else one viewer's own.
 */
export type Audience = { kind: "shared" } | { kind: "viewer"; id: string };

/**
 * JSON with object keys in sorted order, so `{a, b}` and `{b, a}` name the same entry. Arrays
 * keep their order: it is meaningful in variables.
 */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${stableJson(inner)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * The operation part of a key: the printed document (whitespace and comments normalized away),
 * the operation name and the variables. Printed once per request; the audience is added per lookup.
 */
export function operationKey(
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Readonly<Record<string, unknown>> | undefined,
): string {
  return createHash("sha256")
    .update(print(document))
    .update("\u0000")
    .update(operationName ?? "")
    .update("\u0000")
    .update(stableJson(variables ?? {}))
    .digest("hex");
}

/** The entry's key: a viewer's entries can only be found with that viewer's id. */
export function entryKey(operation: string, audience: Audience): string {
  if (audience.kind === "shared") return `shared:${operation}`;
  const viewer = createHash("sha256").update(audience.id).digest("hex").slice(0, 32);
  return `viewer:${viewer}:${operation}`;
}
