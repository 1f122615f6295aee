/**
 * RFM: each customer scored 1..5 on recency, frequency and monetary value by quintile across all
 * customers as of the same instant, and placed in a segment by the rules below.
 */

export interface RfmScores {
  recencyScore: number;
  frequencyScore: number;
  monetaryScore: number;
}

export const SEGMENTS = [
  "CHAMPIONS",
  "LOYAL",
  "POTENTIAL_LOYALISTS",
  "NEW",
  "PROMISING",
  "NEED_ATTENTION",
  "AT_RISK",
  "CANNOT_LOSE_THEM",
  "HIBERNATING",
  "LOST",
] as const;

export type Segment = (typeof SEGMENTS)[number];

/**
 * Quintile scores 1..5, 5 for the best fifth by `goodness` (higher is better). Ties share the
 * score of the first of them, so equal values always score the same: when half the customers
 * have one order, they all get the frequency score of the lowest of them.
 */
export function quintileScores(goodness: readonly number[]): number[] {
  const n = goodness.length;
  const order = goodness.map((value, index) => ({ value, index })).sort((a, b) => a.value - b.value);
  const scores = new Array<number>(n).fill(1);
  let groupStart = 0;
  order.forEach((entry, rank) => {
    if (rank > 0 && entry.value !== order[rank - 1]?.value) groupStart = rank;
    scores[entry.index] = 1 + Math.floor((5 * groupStart) / n);
  });
  return scores;
}

/** R from days since the last order (fewer is better), F from orders, M from net revenue. */
export function rfmScores(
  customers: readonly { recencyDays: number; frequency: number; monetary: number }[],
): RfmScores[] {
  const r = quintileScores(customers.map((c) => -c.recencyDays));
  const f = quintileScores(customers.map((c) => c.frequency));
  const m = quintileScores(customers.map((c) => c.monetary));
  return customers.map((_, i) => ({
    recencyScore: r[i] ?? 1,
    frequencyScore: f[i] ?? 1,
    monetaryScore: m[i] ?? 1,
  }));
}

/** The combined score: R + F + M, 3 (worst) to 15 (best). */
export const rfmScore = (s: RfmScores): number => s.recencyScore + s.frequencyScore + s.monetaryScore;

/**
 * The segment map, on R and FM = round((F + M) / 2), the usual R-by-FM grid:
 *
 *   R \ FM   1             2                    3                    4           5
 *   5        NEW           POTENTIAL_LOYALISTS  POTENTIAL_LOYALISTS  CHAMPIONS   CHAMPIONS
 *   4        PROMISING     POTENTIAL_LOYALISTS  POTENTIAL_LOYALISTS  LOYAL       CHAMPIONS
 *   3        NEED_ATTENTION NEED_ATTENTION      NEED_ATTENTION       LOYAL       LOYAL
 *   2        HIBERNATING   HIBERNATING          AT_RISK              AT_RISK     CANNOT_LOSE_THEM
 *   1        LOST          LOST                 AT_RISK              AT_RISK     CANNOT_LOSE_THEM
 */
export function segmentOf(s: RfmScores): Segment {
  const r = s.recencyScore;
  const fm = Math.round((s.frequencyScore + s.monetaryScore) / 2);
  if (r >= 4) {
    if ((r === 5 && fm >= 4) || fm === 5) return "CHAMPIONS";
    if (fm === 4) return "LOYAL";
    if (fm >= 2) return "POTENTIAL_LOYALISTS";
    return r === 5 ? "NEW" : "PROMISING";
  }
  if (r === 3) return fm >= 4 ? "LOYAL" : "NEED_ATTENTION";
  if (fm === 5) return "CANNOT_LOSE_THEM";
  if (fm >= 3) return "AT_RISK";
  return r === 2 ? "HIBERNATING" : "LOST";
}
