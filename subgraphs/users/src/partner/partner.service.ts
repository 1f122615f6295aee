import { createHash, randomBytes } from "node:crypto";
import {
  badUserInput,
  type Connection,
  forbidden,
  hasScope,
  isUuid,
  type PersistedManifests,
  pageSize,
  ROLE_SCOPES,
  type TokenSigner,
  toConnection,
  userError,
  type Viewer,
} from "@nexus/core";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { decodePosition, encodePosition } from "../db/position.ts";
import type { UserError } from "../user-error.ts";
import {
  MAX_ACTIVE_KEYS,
  type PartnerApiKeyModel,
  type PartnerClientModel,
  type PartnerManifestModel,
  toPartnerApiKeyModel,
  toPartnerClientModel,
} from "./partner.model.ts";
import {
  addOperationUsage,
  findActiveKeyByHash,
  findPartnerClientById,
  insertPartnerApiKey,
  insertPartnerClient,
  listPartnerClients,
  lockPartnerClient,
  revokePartnerApiKey as revokeKeyRow,
  revokePartnerClient as revokeRow,
  sumOperationUsage,
  touchPartnerApiKey,
  type UsageReport,
} from "./partner.repository.ts";

/**
 * API keys: a recognisable prefix, 8 characters shown in listings to tell keys apart, and
 * 256 random bits. Only the SHA-256 is stored; the key is shown once, at creation.
 */
const KEY_FORMAT = /^nxp_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}$/;
const NAME = /^[A-Za-z0-9._-]{3,64}$/;

export const hashApiKey = (key: string): Buffer => createHash("sha256").update(key).digest();

/** `partnerClients`: a page of clients, oldest first, revoked ones on request; one query and one count. */
export async function listPartnerClientPage(
  db: Kysely<Database>,
  args: { first?: number | null; after?: string | null; includeRevoked?: boolean | null },
): Promise<Connection<PartnerClientModel>> {
  const limit = pageSize(args.first);
  const { rows, totalCount } = await listPartnerClients(db, {
    includeRevoked: args.includeRevoked === true,
    after: decodePosition(args.after),
    limit,
  });
  const page = toConnection(rows, limit, totalCount, (row) => encodePosition(row.position), !!args.after);
  return {
    ...page,
    edges: page.edges.map((edge) => ({ cursor: edge.cursor, node: toPartnerClientModel(edge.node) })),
  };
}

/** A new key: shown to the caller once, stored as its hash. */
function newApiKey(): { apiKey: string; keyPrefix: string; keyHash: Buffer } {
  const keyPrefix = `nxp_${randomBytes(6).toString("base64url")}`;
  const apiKey = `${keyPrefix}_${randomBytes(32).toString("base64url")}`;
  return { apiKey, keyPrefix, keyHash: hashApiKey(apiKey) };
}

/** A client and its first key, in one transaction. */
export async function createPartnerClient(
  db: Kysely<Database>,
  input: { name: string },
  createdBy: string | null,
): Promise<
  { ok: true; client: PartnerClientModel; apiKey: string } | { ok: false; userErrors: UserError[] }
> {
  const name = input.name.trim();
  if (!NAME.test(name)) {
    return {
      ok: false,
      userErrors: [
        userError(
          "INVALID_NAME",
          "Partner names are 3 to 64 letters, digits, dots, hyphens or underscores.",
          ["input", "name"],
        ),
      ],
    };
  }
  const { apiKey, keyPrefix, keyHash } = newApiKey();
  const row = await db.transaction().execute(async (trx) => {
    const client = await insertPartnerClient(trx, { name, createdBy });
    if (client) await insertPartnerApiKey(trx, { clientId: client.id, keyPrefix, keyHash, createdBy });
    return client;
  });
  if (!row) {
    return {
      ok: false,
      userErrors: [userError("NAME_TAKEN", "A partner client with this name exists.", ["input", "name"])],
    };
  }
  return { ok: true, client: toPartnerClientModel(row), apiKey };
}

/**
 * Another key for a client, for rotation. The client's row is locked while its working keys
 * are counted, so two concurrent calls cannot both see one key and leave three.
 */
export async function createPartnerApiKey(
  db: Kysely<Database>,
  input: { clientId: string },
  createdBy: string | null,
): Promise<{ ok: true; key: PartnerApiKeyModel; apiKey: string } | { ok: false; userErrors: UserError[] }> {
  const field = ["input", "clientId"];
  if (!isUuid(input.clientId)) {
    return { ok: false, userErrors: [userError("NOT_FOUND", "No such partner client.", field)] };
  }
  const { apiKey, keyPrefix, keyHash } = newApiKey();
  return db.transaction().execute(async (trx) => {
    const client = await lockPartnerClient(trx, input.clientId);
    if (!client) return { ok: false, userErrors: [userError("NOT_FOUND", "No such partner client.", field)] };
    if (client.revoked_at !== null) {
      return {
        ok: false,
        userErrors: [
          userError("CLIENT_REVOKED", "This partner client is revoked: it gets no new key.", field),
        ],
      };
    }
    if (client.activeKeys >= MAX_ACTIVE_KEYS) {
      return {
        ok: false,
        userErrors: [
          userError(
            "TOO_MANY_KEYS",
            `A partner client holds at most ${MAX_ACTIVE_KEYS} working keys: revoke one before issuing another.`,
            field,
          ),
        ],
      };
    }
    const row = await insertPartnerApiKey(trx, { clientId: client.id, keyPrefix, keyHash, createdBy });
    return { ok: true, key: toPartnerApiKeyModel(row), apiKey };
  });
}

export async function revokePartnerApiKey(
  db: Kysely<Database>,
  id: string,
): Promise<{ ok: true; key: PartnerApiKeyModel } | { ok: false; userErrors: UserError[] }> {
  const row = isUuid(id) ? await revokeKeyRow(db, id) : undefined;
  if (!row) return { ok: false, userErrors: [userError("NOT_FOUND", "No such API key.", ["input", "id"])] };
  return { ok: true, key: toPartnerApiKeyModel(row) };
}

export async function revokePartnerClient(
  db: Kysely<Database>,
  id: string,
): Promise<{ ok: true; client: PartnerClientModel } | { ok: false; userErrors: UserError[] }> {
  const row = isUuid(id) ? await revokeRow(db, id) : undefined;
  if (!row)
    return { ok: false, userErrors: [userError("NOT_FOUND", "No such partner client.", ["input", "id"])] };
  return { ok: true, client: toPartnerClientModel(row) };
}

export interface PartnerToken {
  accessToken: string;
  expiresAt: Date;
  client: { id: string; name: string };
}

/**
 * Exchanges a partner's API key for a short-lived access token (role PARTNER, the client's
 * name as `client_id`), so every subgraph verifies partners exactly like users. Null for an
 * unknown or revoked key.
 */
export async function exchangeApiKey(
  db: Kysely<Database>,
  signer: TokenSigner,
  apiKey: string,
  ttlSeconds: number,
): Promise<PartnerToken | null> {
  if (!KEY_FORMAT.test(apiKey)) return null;
  const key = await findActiveKeyByHash(db, hashApiKey(apiKey));
  if (!key) return null;
  await touchPartnerApiKey(db, key.keyId);
  const { token, expiresAt } = await signer.sign(
    { sub: key.clientId, role: "PARTNER", scopes: ROLE_SCOPES.PARTNER, clientId: key.name },
    ttlSeconds,
  );
  return { accessToken: token, expiresAt, client: { id: key.clientId, name: key.name } };
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const OPERATION_ID = /^[0-9a-f]{64}$/;
const MAX_REPORT_ENTRIES = 10_000;

/**
 * Reads the gateway's usage report (`POST /partner-usage`): `{ entries: [{ client,
 * operationId, day, requests, errors, lastUsedAt }] }`. Every entry is checked; the error
 * names the first bad one. Entries for the same (client, operation, day) are added together.
 */
export function parseUsageReport(
  body: unknown,
): { ok: true; entries: UsageReport[] } | { ok: false; error: string } {
  const entries = typeof body === "object" && body !== null && "entries" in body ? body.entries : undefined;
  if (!Array.isArray(entries)) return { ok: false, error: "expected { entries: [...] }" };
  if (entries.length > MAX_REPORT_ENTRIES) {
    return { ok: false, error: `at most ${MAX_REPORT_ENTRIES} entries per report` };
  }
  const merged = new Map<string, UsageReport>();
  for (const [index, entry] of (entries as unknown[]).entries()) {
    const { client, operationId, day, requests, errors, lastUsedAt } = (entry ?? {}) as Record<
      string,
      unknown
    >;
    const at = typeof lastUsedAt === "string" ? new Date(lastUsedAt) : null;
    const count = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;
    if (
      typeof client !== "string" ||
      !NAME.test(client) ||
      typeof operationId !== "string" ||
      !OPERATION_ID.test(operationId) ||
      typeof day !== "string" ||
      !DAY.test(day) ||
      Number.isNaN(Date.parse(`${day}T00:00:00Z`)) ||
      !count(requests) ||
      !count(errors) ||
      (errors as number) > (requests as number) ||
      !at ||
      Number.isNaN(at.getTime())
    ) {
      return {
        ok: false,
        error: `entry ${index} needs a client name, a sha256 operationId, a YYYY-MM-DD day, counts (errors <= requests) and a lastUsedAt time`,
      };
    }
    const key = `${client} ${operationId} ${day}`;
    const previous = merged.get(key);
    merged.set(key, {
      client,
      operationId,
      day,
      requests: (previous?.requests ?? 0) + (requests as number),
      errors: (previous?.errors ?? 0) + (errors as number),
      lastUsedAt: previous && previous.lastUsedAt > at ? previous.lastUsedAt : at,
    });
  }
  return { ok: true, entries: [...merged.values()] };
}

export async function recordOperationUsage(
  db: Kysely<Database>,
  entries: readonly UsageReport[],
): Promise<void> {
  await addOperationUsage(db, entries);
}

export const MAX_USAGE_DAYS = 90;

/** GraphQL's Int is 32-bit: a count past it shows as the largest Int rather than failing the field. */
const MAX_INT = 2 ** 31 - 1;
const saturated = (count: string | undefined): number => Math.min(Number(count ?? 0), MAX_INT);

/**
 * `partnerManifest`: a partner reads its own, staff with `partners:manage` any client's. The
 * operations are the client's manifest as the gateway loads it; usage is what the gateway
 * reported, summed per operation over the window.
 */
export async function readPartnerManifest(
  deps: { db: Kysely<Database>; manifests: PersistedManifests },
  viewer: Viewer,
  args: { clientId?: string | null; days?: number | null },
  now = new Date(),
): Promise<PartnerManifestModel | null> {
  const days = args.days ?? 7;
  if (!Number.isInteger(days) || days < 1 || days > MAX_USAGE_DAYS) {
    throw badUserInput(`days must be 1 to ${MAX_USAGE_DAYS}.`, "days");
  }
  let clientId: string;
  if (hasScope(viewer, "partners:manage")) {
    if (!args.clientId) throw badUserInput("Name the partner client to read: clientId.", "clientId");
    clientId = args.clientId;
  } else if (viewer.role === "PARTNER") {
    if (args.clientId && args.clientId !== viewer.userId) {
      throw forbidden("A partner reads its own manifest only: leave clientId out.");
    }
    clientId = viewer.userId;
  } else {
    throw forbidden("Only a partner, or staff with partners:manage, reads a partner manifest.");
  }
  if (!isUuid(clientId)) return null;
  const row = await findPartnerClientById(deps.db, clientId);
  if (!row) return null;

  const since = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - (days - 1)));
  const usage = await sumOperationUsage(deps.db, row.id, since.toISOString().slice(0, 10));
  const usageById = new Map(usage.map((entry) => [entry.operation_id, entry]));
  const operations = [...(deps.manifests.get(row.name)?.values() ?? [])]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((operation) => {
      const used = usageById.get(operation.id);
      return {
        ...operation,
        requests: saturated(used?.requests),
        errors: saturated(used?.errors),
        lastUsedAt: used?.last_used_at ?? null,
      };
    });
  return { client: toPartnerClientModel(row), usageSince: since, operations };
}
