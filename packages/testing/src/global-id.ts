import { parseGlobalId, toGlobalId } from "@nexus/core";

/** The global id a client sees for a raw id of `type`: what tests expect of GraphQL answers. */
export const globalId = (type: string, raw: string): string => toGlobalId(type, raw);

/**
 * The raw id in a global id from a GraphQL answer, for a test that looks in a database or signs a
 * token with it. Throws on anything else, so a test cannot pass by comparing raw with raw.
 */
export function rawId(value: string | null | undefined): string {
  const parsed = typeof value === "string" ? parseGlobalId(value) : null;
  if (!parsed) throw new Error(`not a global id: ${String(value)}`);
  return parsed.raw;
}

/**
 * An answer with every global id in it replaced by its raw id, for tests written in the
 * database's terms (seeded UUIDs, stored rows). Only for a subgraph whose own global-id test
 * asserts the encoded forms, so nothing here can hide a raw id leaking out.
 */
export function withRawIds<T>(value: T): T {
  if (typeof value === "string") return (parseGlobalId(value)?.raw ?? value) as T;
  if (Array.isArray(value)) return value.map((each) => withRawIds(each)) as T;
  if (value === null || typeof value !== "object" || value instanceof Date) return value;
  return Object.fromEntries(Object.entries(value).map(([key, each]) => [key, withRawIds(each)])) as T;
}
