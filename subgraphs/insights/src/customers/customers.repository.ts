import type { Kysely, Selectable } from "kysely";
import type { CustomerScoresTable, Database } from "../db/database.ts";

export type CustomerScoreRow = Selectable<CustomerScoresTable> & { as_of: Date };

/** The newest model's version, as a subquery: every read serves that model's scores. */
const currentVersion = (db: Kysely<Database>) =>
  db.selectFrom("churn_models").select((eb) => eb.fn.max("version").as("version"));

const scores = (db: Kysely<Database>) =>
  db
    .selectFrom("customer_scores as s")
    .innerJoin("churn_models as m", "m.version", "s.model_version")
    .selectAll("s")
    .select("m.as_of")
    .where("s.model_version", "=", currentVersion(db));

/** The newest model's scores of these customers, in one query; customers it has none of are absent. */
export async function findCustomerScores(
  db: Kysely<Database>,
  customerIds: readonly string[],
): Promise<CustomerScoreRow[]> {
  if (customerIds.length === 0) return [];
  return scores(db)
    .where("s.customer_id", "in", [...customerIds])
    .execute();
}

export type CustomerInsightOrder = "VALUE_AT_RISK" | "CHURN_PROBABILITY";

export interface CustomerScoresPageQuery {
  orderBy: CustomerInsightOrder;
  segment: string | null;
  minProbability: number | null;
  /** Keyset: the sort value and customer id of the last row of the previous page. */
  after: { value: number; customerId: string } | null;
  limit: number;
}

/**
 * One page of the newest model's scores, highest first by value at risk or by probability, then
 * by customer id; and how many match the filters.
 */
export async function findCustomerScoresPage(
  db: Kysely<Database>,
  query: CustomerScoresPageQuery,
): Promise<{ rows: CustomerScoreRow[]; totalCount: number }> {
  const column = query.orderBy === "VALUE_AT_RISK" ? "s.value_at_risk" : "s.probability";
  let filtered = scores(db);
  if (query.segment !== null) filtered = filtered.where("s.segment", "=", query.segment);
  if (query.minProbability !== null) filtered = filtered.where("s.probability", ">=", query.minProbability);
  let page = filtered;
  const after = query.after;
  if (after !== null) {
    page = page.where((eb) =>
      eb.or([
        eb(column, "<", after.value),
        eb.and([eb(column, "=", after.value), eb("s.customer_id", ">", after.customerId)]),
      ]),
    );
  }
  const [rows, count] = await Promise.all([
    page.orderBy(column, "desc").orderBy("s.customer_id", "asc").limit(query.limit).execute(),
    filtered
      .clearSelect()
      .select((eb) => eb.fn.countAll<number>().as("count"))
      .executeTakeFirst(),
  ]);
  return { rows, totalCount: Number(count?.count ?? 0) };
}
