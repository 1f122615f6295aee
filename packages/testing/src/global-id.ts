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
