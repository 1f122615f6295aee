import type { Insertable, Kysely, Selectable, Transaction } from "kysely";
import type { ChurnModelsTable, CustomerScoresTable, Database } from "../db/database.ts";

export type ChurnModelRow = Selectable<ChurnModelsTable>;
export type ChurnModelInsert = Insertable<ChurnModelsTable>;
export type CustomerScoreInsert = Insertable<CustomerScoresTable>;

/** Rows per INSERT: well under PostgreSQL's 65 535 parameters at 15 columns a row. */
const SCORE_BATCH = 1000;

export async function insertChurnModel(trx: Transaction<Database>, model: ChurnModelInsert): Promise<number> {
  const row = await trx
    .insertInto("churn_models")
    .values(model)
    .returning("version")
    .executeTakeFirstOrThrow();
  return row.version;
}

export async function insertCustomerScores(
  trx: Transaction<Database>,
  scores: readonly CustomerScoreInsert[],
): Promise<void> {
  for (let start = 0; start < scores.length; start += SCORE_BATCH) {
    await trx
      .insertInto("customer_scores")
      .values(scores.slice(start, start + SCORE_BATCH))
      .execute();
  }
}

/** The model served: the newest one. */
export async function findCurrentChurnModel(db: Kysely<Database>): Promise<ChurnModelRow | null> {
  const row = await db
    .selectFrom("churn_models")
    .selectAll()
    .orderBy("version", "desc")
    .limit(1)
    .executeTakeFirst();
  return row ?? null;
}
