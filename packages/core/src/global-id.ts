import { badUserInput } from "./errors.ts";

/**
 * Relay-style global object identification at the GraphQL boundary. A global id names its type:
 * `gid://nexus/Order/7f0c…`. Databases, events and soft references keep raw ids; only what a
 * client sends and receives is global (docs/global-ids.md).
 */
const PREFIX = "gid://nexus/";
const TYPE_NAME = /^[A-Z][A-Za-z0-9]*$/;

export interface GlobalId {
  type: string;
  raw: string;
}

/** `gid://nexus/<Type>/<raw>`; the raw id is percent-encoded so any string survives a round trip. */
export function toGlobalId(type: string, raw: string): string {
  if (!TYPE_NAME.test(type)) throw new Error(`global id: "${type}" is not a type name`);
  if (raw === "") throw new Error(`global id: an empty ${type} id`);
  return `${PREFIX}${type}/${encodeURIComponent(raw)}`;
}

/** True when a value claims to be a global id (it may still be malformed). */
export const looksLikeGlobalId = (value: string): boolean => value.startsWith("gid://");

/** The type and raw id of a well-formed global id, or null for anything else. */
export function parseGlobalId(value: string): GlobalId | null {
  if (!value.startsWith(PREFIX)) return null;
  const rest = value.slice(PREFIX.length);
  const slash = rest.indexOf("/");
  if (slash < 0) return null;
  const type = rest.slice(0, slash);
  const encoded = rest.slice(slash + 1);
  if (!TYPE_NAME.test(type) || encoded === "" || encoded.includes("/")) return null;
  try {
    const raw = decodeURIComponent(encoded);
    return raw === "" ? null : { type, raw };
  } catch {
    return null;
  }
}

/** What a client sent for an id of one expected type, decoded. */
export interface DecodedId {
  raw: string;
  /** The client sent a raw id: accepted until raw ids are retired (docs/global-ids.md). */
  legacy: boolean;
}

/**
 * Decodes an id a client sent where a `type` is expected: a global id of that type gives its raw
 * id, anything not shaped like a global id is taken as a legacy raw id (the resolver validates it
 * as it always did). A global id of another type, or a malformed one, is BAD_USER_INPUT.
 */
export function decodeIdOfType(value: string, type: string): DecodedId {
  if (!looksLikeGlobalId(value)) return { raw: value, legacy: true };
  const parsed = parseGlobalId(value);
  if (!parsed) throw badUserInput(`"${value}" is not a valid id.`);
  if (parsed.type !== type)
    throw badUserInput(`Expected an id of type ${type}, got one of type ${parsed.type}.`);
  return { raw: parsed.raw, legacy: false };
}

/**
 * The raw id in an id another subgraph's `_entities` answered with (global since ids became
 * global; raw before), or null when it is not an id of `type`. For subgraph-to-subgraph clients,
 * which keep raw ids.
 */
export function rawIdOf(value: unknown, type: string): string | null {
  if (typeof value !== "string") return null;
  if (!looksLikeGlobalId(value)) return value;
  const parsed = parseGlobalId(value);
  return parsed?.type === type ? parsed.raw : null;
}
