import {
  badUserInput,
  type Connection,
  cursorPart,
  encodeCursor,
  pageSize,
  readCursor,
  toConnection,
} from "@nexus/core";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { type CustomerInsightsModel, toCustomerInsights } from "./customers.model.ts";
import { type CustomerInsightOrder, findCustomerScoresPage } from "./customers.repository.ts";
import type { Segment } from "./rfm.model.ts";

export interface CustomerInsightsArgs {
  first?: number | null;
  after?: string | null;
  segment?: Segment | null;
  minChurnProbability?: number | null;
  orderBy?: CustomerInsightOrder | null;
}

/** A probability in a cursor: a finite number from 0 to 1. */
const probabilityPart = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isFinite(value) && value >= 0 && value <= 1 ? value : undefined;

/**
 * `customerInsights`: the newest model's customers, the revenue at stake first (probability of
 * churning times net revenue), or the likeliest to churn first; filtered by segment and a least
 * probability. Keyset pages; a cursor belongs to one ordering.
 */
export async function customerInsights(
  deps: { db: Kysely<Database> },
  args: CustomerInsightsArgs,
): Promise<Connection<CustomerInsightsModel>> {
  const first = pageSize(args.first, 20);
  const orderBy = args.orderBy ?? "VALUE_AT_RISK";
  const minProbability = args.minChurnProbability ?? null;
  if (minProbability !== null && !(minProbability >= 0 && minProbability <= 1)) {
    throw badUserInput("minChurnProbability must be between 0 and 1.", "minChurnProbability");
  }
  const cursor =
    orderBy === "VALUE_AT_RISK"
      ? readCursor(args.after, [
          cursorPart.tag("v"),
          cursorPart.integer(0, Number.MAX_SAFE_INTEGER),
          cursorPart.uuid,
        ])
      : readCursor(args.after, [cursorPart.tag("p"), probabilityPart, cursorPart.uuid]);
  const { rows, totalCount } = await findCustomerScoresPage(deps.db, {
    orderBy,
    segment: args.segment ?? null,
    minProbability,
    after: cursor === null ? null : { value: cursor[1], customerId: cursor[2] },
    limit: first + 1,
  });
  return toConnection(
    rows.map(toCustomerInsights),
    first,
    totalCount,
    (node) =>
      orderBy === "VALUE_AT_RISK"
        ? encodeCursor(["v", node.valueAtRisk.amount, node.customerId])
        : encodeCursor(["p", node.churnRisk.probability, node.customerId]),
    cursor !== null,
  );
}
