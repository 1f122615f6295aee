import { type Kysely, type Selectable, sql } from "kysely";
import type { Database, PartnerClientsTable } from "../db/database.ts";
import { afterPosition, POSITION_KEY, type Position, positioned } from "../db/position.ts";

export type PartnerClientRow = Selectable<PartnerClientsTable>;

/** Inserts a client; undefined when the name is taken. */
export async function insertPartnerClient(
  db: Kysely<Database>,
  client: { name: string; keyPrefix: string; keyHash: Buffer; createdBy: string | null },
): Promise<PartnerClientRow | undefined> {
  return db
    .insertInto("partner_clients")
    .values({
      name: client.name,
      key_prefix: client.keyPrefix,
      key_hash: client.keyHash,
      created_by: client.createdBy,
    })
    .onConflict((oc) => oc.column("name").doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function findActivePartnerClientByKeyHash(
  db: Kysely<Database>,
  keyHash: Buffer,
): Promise<PartnerClientRow | undefined> {
  return db
    .selectFrom("partner_clients")
    .selectAll()
    .where("key_hash", "=", keyHash)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
}

/** Records use at most once a minute, so a busy partner does not turn every exchange into a write. */
export async function touchPartnerClient(db: Kysely<Database>, id: string): Promise<void> {
  await db
    .updateTable("partner_clients")
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

export async function revokePartnerClient(
  db: Kysely<Database>,
  id: string,
): Promise<PartnerClientRow | undefined> {
  return db
    .updateTable("partner_clients")
    .set({ revoked_at: sql<Date>`coalesce(revoked_at, now())` })
    .where("id", "=", id)
    .returningAll()
    .executeTakeFirst();
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
