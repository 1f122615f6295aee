import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** One entry of a persisted query manifest (Apollo's `apollo-persisted-query-manifest` format). */
export interface PersistedOperation {
  /** sha256 hex of `body`. */
  id: string;
  name: string;
  type: "query" | "mutation" | "subscription";
  body: string;
}

/** A client's registered operations by id. */
export type PersistedManifests = ReadonlyMap<string, ReadonlyMap<string, PersistedOperation>>;

export const MANIFEST_FILE = "persisted-query-manifest.json";

/**
 * Shared by the gateway, which runs a partner's operations by id, and the users subgraph, which
 * shows a partner what it registered (`partnerManifest`): both read the same checked-in files.
 *
 * Reads `<dir>/<client>/persisted-query-manifest.json` for every client folder that has one
 * (`pnpm codegen` writes them). Read once at start-up: registering an operation means a new
 * manifest and a restart, like a new supergraph. A manifest that is not Apollo's format, or
 * whose ids are not the sha256 of their bodies (edited by hand), stops the start.
 */
export function loadPersistedManifests(dir: string): PersistedManifests {
  let entries: string[];
  try {
    entries = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch (error) {
    const code = error instanceof Error && "code" in error ? String(error.code) : "unreadable";
    throw new Error(`PERSISTED_OPERATIONS_DIR: cannot read ${dir} (${code})`);
  }
  const manifests = new Map<string, ReadonlyMap<string, PersistedOperation>>();
  for (const client of entries.sort()) {
    const path = join(dir, client, MANIFEST_FILE);
    if (!existsSync(path)) continue;
    manifests.set(client, readManifest(path));
  }
  return manifests;
}

function readManifest(path: string): ReadonlyMap<string, PersistedOperation> {
  const fail = (why: string): never => {
    throw new Error(`${path} is not a persisted query manifest: ${why}; \`pnpm codegen\` writes it`);
  };
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
  if (
    typeof manifest !== "object" ||
    manifest === null ||
    !("format" in manifest) ||
    manifest.format !== "apollo-persisted-query-manifest" ||
    !("version" in manifest) ||
    manifest.version !== 1 ||
    !("operations" in manifest) ||
    !Array.isArray(manifest.operations)
  ) {
    return fail(
      'expected { "format": "apollo-persisted-query-manifest", "version": 1, "operations": [...] }',
    );
  }
  const byId = new Map<string, PersistedOperation>();
  for (const [index, operation] of (manifest.operations as unknown[]).entries()) {
    const { id, name, type, body } = (operation ?? {}) as Record<string, unknown>;
    if (
      typeof id !== "string" ||
      typeof name !== "string" ||
      typeof body !== "string" ||
      (type !== "query" && type !== "mutation" && type !== "subscription")
    ) {
      return fail(`operation ${index} needs a string id, name and body and a type`);
    }
    if (createHash("sha256").update(body).digest("hex") !== id) {
      return fail(`the id of operation ${name} is not the sha256 of its body`);
    }
    byId.set(id, { id, name, type, body });
  }
  return byId;
}
