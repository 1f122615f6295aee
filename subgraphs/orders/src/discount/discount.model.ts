import type { DiscountRule } from "../pricing/pricing.model.ts";

/** What Discount resolvers receive: the rule and when it was made. */
export interface DiscountModel extends DiscountRule {
  createdAt: Date;
}
