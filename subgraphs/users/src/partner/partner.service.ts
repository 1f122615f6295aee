import { createHash, randomBytes } from "node:crypto";
import {
  type Connection,
  isUuid,
  pageSize,
  ROLE_SCOPES,
  type TokenSigner,
  toConnection,
  userError,
} from "@nexus/core";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { decodePosition, encodePosition } from "../db/position.ts";
import type { UserError } from "../user-error.ts";
import { type PartnerClientModel, toPartnerClientModel } from "./partner.model.ts";
import {
  findActivePartnerClientByKeyHash,
  insertPartnerClient,
  listPartnerClients,
  revokePartnerClient as revokeRow,
  touchPartnerClient,
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
  const keyPrefix = `nxp_${randomBytes(6).toString("base64url")}`;
  const apiKey = `${keyPrefix}_${randomBytes(32).toString("base64url")}`;
  const row = await insertPartnerClient(db, { name, keyPrefix, keyHash: hashApiKey(apiKey), createdBy });
  if (!row) {
    return {
      ok: false,
      userErrors: [userError("NAME_TAKEN", "A partner client with this name exists.", ["input", "name"])],
    };
  }
  return { ok: true, client: toPartnerClientModel(row), apiKey };
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
  const row = await findActivePartnerClientByKeyHash(db, hashApiKey(apiKey));
  if (!row) return null;
  await touchPartnerClient(db, row.id);
  const { token, expiresAt } = await signer.sign(
    { sub: row.id, role: "PARTNER", scopes: ROLE_SCOPES.PARTNER, clientId: row.name },
    ttlSeconds,
  );
  return { accessToken: token, expiresAt, client: { id: row.id, name: row.name } };
}
