import { type Kysely, type Selectable, sql, type Transaction } from "kysely";
import type { Database, PartnerApiKeysTable, PartnerClientsTable } from "../db/database.ts";
import { afterPosition, POSITION_KEY, type Position, positioned } from "../db/position.ts";

export type PartnerClientRow = Selectable<PartnerClientsTable>;
export type PartnerApiKeyRow = Selectable<PartnerApiKeysTable>;

/** Inserts a client; undefined when the name is taken. */
export async function insertPartnerClient(
  db: Kysely<Database> | Transaction<Database>,
  client: { name: string; createdBy: string | null },
): Promise<PartnerClientRow | undefined> {
  return db
    .insertInto("partner_clients")
    .values({ name: client.name, created_by: client.createdBy })
    .onConflict((oc) => oc.column("name").doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function insertPartnerApiKey(
  db: Kysely<Database> | Transaction<Database>,
  key: { clientId: string; keyPrefix: string; keyHash: Buffer; createdBy: string | null },
): Promise<PartnerApiKeyRow> {
  return db
    .insertInto("partner_api_keys")
    .values({
      client_id: key.clientId,
      key_prefix: key.keyPrefix,
      key_hash: key.keyHash,
      created_by: key.createdBy,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * The client, locked until the transaction ends, with how many working keys it holds: two
 * concurrent requests for a new key are counted one after the other.
 */
export async function lockPartnerClient(
  trx: Transaction<Database>,
  id: string,
): Promise<(PartnerClientRow & { activeKeys: number }) | undefined> {
  const client = await trx
    .selectFrom("partner_clients")
    .selectAll()
    .where("id", "=", id)
    .forUpdate()
    .executeTakeFirst();
  if (!client) return undefined;
  const { count } = await trx
    .selectFrom("partner_api_keys")
    .select((eb) => eb.fn.countAll<string>().as("count"))
    .where("client_id", "=", id)
    .where("revoked_at", "is", null)
    .executeTakeFirstOrThrow();
  return { ...client, activeKeys: Number(count) };
}

/** The key and its client when both work: neither the key nor the client is revoked. */
export async function findActiveKeyByHash(
  db: Kysely<Database>,
  keyHash: Buffer,
): Promise<{ keyId: string; clientId: string; name: string } | undefined> {
  return db
    .selectFrom("partner_api_keys as k")
    .innerJoin("partner_clients as c", "c.id", "k.client_id")
    .select(["k.id as keyId", "c.id as clientId", "c.name"])
    .where("k.key_hash", "=", keyHash)
    .where("k.revoked_at", "is", null)
    .where("c.revoked_at", "is", null)
    .executeTakeFirst();
}

/** Records use at most once a minute, so a busy partner does not turn every exchange into a write. */
export async function touchPartnerApiKey(db: Kysely<Database>, id: string): Promise<void> {
  await db
    .updateTable("partner_api_keys")
    .set({ last_used_at: sql<Date>`now()` })
    .where("id", "=", id)
    .where((eb) =>
      eb.or([
        eb("last_used_at", "is", null),
        eb("last_used_at", "<", sql<Date>`now() - interval '1 minute'`),
      ]),
    )
    .execute();
}

/** Revokes the client and every key it holds, in one transaction. */
export async function revokePartnerClient(
  db: Kysely<Database>,
  id: string,
): Promise<PartnerClientRow | undefined> {
  return db.transaction().execute(async (trx) => {
    const client = await trx
      .updateTable("partner_clients")
      .set({ revoked_at: sql<Date>`coalesce(revoked_at, now())` })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirst();
    if (client) {
      await trx
        .updateTable("partner_api_keys")
        .set({ revoked_at: sql<Date>`now()` })
        .where("client_id", "=", id)
        .where("revoked_at", "is", null)
        .execute();
    }
    return client;
  });
}

/** Revokes one key; a key revoked before keeps its time. */
export async function revokePartnerApiKey(
  db: Kysely<Database>,
  id: string,
): Promise<PartnerApiKeyRow | undefined> {
  return db
    .updateTable("partner_api_keys")
    .set({ revoked_at: sql<Date>`coalesce(revoked_at, now())` })
    .where("id", "=", id)
    .returningAll()
    .executeTakeFirst();
}

/** The keys of several clients at once, oldest first: one query for a page of clients. */
export async function findApiKeysByClientIds(
  db: Kysely<Database>,
  clientIds: readonly string[],
): Promise<PartnerApiKeyRow[]> {
  if (clientIds.length === 0) return [];
  return db
    .selectFrom("partner_api_keys")
    .selectAll()
    .where("client_id", "in", clientIds)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
}

export async function findPartnerClientById(
  db: Kysely<Database>,
  id: string,
): Promise<PartnerClientRow | undefined> {
  return db.selectFrom("partner_clients").selectAll().where("id", "=", id).executeTakeFirst();
}

/** Newest first, keyed by (created_at, id); one row more than asked to tell whether a page follows. */
export async function listPartnerClients(
  db: Kysely<Database>,
  options: { includeRevoked: boolean; after: Position | null; limit: number },
): Promise<{ rows: (PartnerClientRow & { position: Position })[]; totalCount: number }> {
  const query = db
    .selectFrom("partner_clients")
    .$if(!options.includeRevoked, (q) => q.where("revoked_at", "is", null));
  const after = options.after;
  const page = query
    .selectAll()
    .select(POSITION_KEY)
    .$call((q) => (after ? q.where(afterPosition(after)) : q))
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(options.limit + 1)
    .execute();
  const total = query.select((eb) => eb.fn.countAll<string>().as("count")).executeTakeFirstOrThrow();
  const [rows, { count }] = await Promise.all([page, total]);
  return {
    rows: positioned(rows),
    totalCount: Number(count),
  };
}

export interface UsageReport {
  /** The partner client's name, as the gateway knows it. */
  client: string;
  operationId: string;
  /** UTC day, YYYY-MM-DD. */
  day: string;
  requests: number;
  errors: number;
  lastUsedAt: Date;
}

/**
 * Adds the gateway's counts to each (client, operation, day). One statement for the whole
 * report; entries of clients that do not exist (any more) are dropped.
 */
export async function addOperationUsage(
  db: Kysely<Database>,
  entries: readonly UsageReport[],
): Promise<void> {
  if (entries.length === 0) return;
  await db
    .insertInto("partner_operation_usage")
    .columns(["client_id", "operation_id", "day", "requests", "errors", "last_used_at"])
    .expression(
      db
        .selectFrom(
          sql<{
            client: string;
            operation_id: string;
            day: string;
            requests: number;
            errors: number;
            last_used_at: Date;
          }>`(SELECT * FROM jsonb_to_recordset(${JSON.stringify(
            entries.map((entry) => ({
              client: entry.client,
              operation_id: entry.operationId,
              day: entry.day,
              requests: entry.requests,
              errors: entry.errors,
              last_used_at: entry.lastUsedAt.toISOString(),
            })),
          )}::jsonb) AS r(client text, operation_id text, day date, requests bigint, errors bigint, last_used_at timestamptz))`.as(
            "r",
          ),
        )
        .innerJoin("partner_clients as c", "c.name", "r.client")
        .select(["c.id as client_id", "r.operation_id", "r.day", "r.requests", "r.errors", "r.last_used_at"]),
    )
    .onConflict((oc) =>
      oc.columns(["client_id", "operation_id", "day"]).doUpdateSet({
        requests: sql`partner_operation_usage.requests + excluded.requests`,
        errors: sql`partner_operation_usage.errors + excluded.errors`,
        last_used_at: sql`greatest(partner_operation_usage.last_used_at, excluded.last_used_at)`,
      }),
    )
    .execute();
}

/** Each operation's totals from `since` (a UTC day, YYYY-MM-DD) on. */
export async function sumOperationUsage(
  db: Kysely<Database>,
  clientId: string,
  since: string,
): Promise<{ operation_id: string; requests: string; errors: string; last_used_at: Date }[]> {
  return db
    .selectFrom("partner_operation_usage")
    .select((eb) => [
      "operation_id",
      eb.fn.sum<string>("requests").as("requests"),
      eb.fn.sum<string>("errors").as("errors"),
      eb.fn.max("last_used_at").as("last_used_at"),
    ])
    .where("client_id", "=", clientId)
    .where("day", ">=", sql<Date>`${since}::date`)
    .groupBy("operation_id")
    .execute();
}
