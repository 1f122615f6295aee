import type { RiskLoaders } from "./risk.loaders.ts";
import type { RiskAssessmentModel } from "./risk.model.ts";

/** `Order.riskAssessment`: computed on read from the facts, batched across the orders of a request. */
export function orderRiskAssessment(
  deps: { loaders: RiskLoaders },
  orderId: string,
): Promise<RiskAssessmentModel | null> {
  return deps.loaders.orderRisk.load(orderId);
}
