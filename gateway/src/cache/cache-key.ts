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
 * The operation's shape: the printed document (whitespace and comments normalized away) and
 * the operation name. Whether an operation is cacheable at all depends on its shape.
 */
export function shapeKey(document: DocumentNode, operationName: string | null | undefined): string {
  return createHash("sha256")
    .update(print(document))
    .update("\u0000")
    .update(operationName ?? "")
    .digest("hex");
}

/** The operation part of a key: its shape and its variables. The audience is added per lookup. */
export function operationKey(
  shape: string,
  variables: Readonly<Record<string, unknown>> | undefined,
): string {
  return createHash("sha256")
    .update(shape)
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
