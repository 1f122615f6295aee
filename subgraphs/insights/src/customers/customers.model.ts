import type { Money } from "@nexus/core";
import type { ChurnBand } from "../churn/churn.model.ts";
import { featureName } from "./customer-features.model.ts";
import type { Segment } from "./rfm.model.ts";

/** `User.insights` and a `customerInsights` node: a customer's scores under the newest model. */
export interface CustomerInsightsModel {
  customerId: string;
  asOf: Date;
  rfm: {
    recencyDays: number;
    frequency: number;
    monetary: Money;
    recencyScore: number;
    frequencyScore: number;
    monetaryScore: number;
    score: number;
  };
  segment: Segment;
  churnRisk: { probability: number; band: ChurnBand; drivers: string[]; modelVersion: number };
  valueAtRisk: Money;
}

/** The stored row as `findCustomerScores` returns it (bigint columns arrive as strings). */
export interface CustomerScoreValues {
  model_version: number;
  customer_id: string;
  as_of: Date;
  probability: number;
  band: ChurnBand;
  drivers: string[];
  recency_days: number;
  frequency: number;
  monetary: number | string;
  currency_code: string;
  recency_score: number;
  frequency_score: number;
  monetary_score: number;
  segment: string;
  value_at_risk: number | string;
}

export function toCustomerInsights(row: CustomerScoreValues): CustomerInsightsModel {
  const money = (amount: number | string): Money => ({
    amount: Number(amount),
    currencyCode: row.currency_code,
  });
  return {
    customerId: row.customer_id,
    asOf: row.as_of,
    rfm: {
      recencyDays: row.recency_days,
      frequency: row.frequency,
      monetary: money(row.monetary),
      recencyScore: row.recency_score,
      frequencyScore: row.frequency_score,
      monetaryScore: row.monetary_score,
      score: row.recency_score + row.frequency_score + row.monetary_score,
    },
    segment: row.segment as Segment,
    churnRisk: {
      probability: row.probability,
      band: row.band,
      drivers: row.drivers.map(featureName),
      modelVersion: row.model_version,
    },
    valueAtRisk: money(row.value_at_risk),
  };
}
