import { isUuid } from "@nexus/core";
import DataLoader from "dataloader";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { assessOrder, type RiskAssessmentModel } from "./risk.model.ts";
import { findRiskFacts, type RiskOrderRow } from "./risk.repository.ts";

export interface RiskLoaders {
  /** An order's risk assessment; null when insights has not heard of the order. */
  orderRisk: DataLoader<string, RiskAssessmentModel | null>;
}

export function createRiskLoaders(deps: { db: Kysely<Database> }): RiskLoaders {
  return {
    orderRisk: new DataLoader(async (orderIds) => {
      // Anything but a UUID cannot be an order: not looked up.
      const facts = await findRiskFacts(deps.db, orderIds.filter(isUuid));
      const byId = new Map(facts.orders.map((order) => [order.order_id, order]));
      const byCustomer = new Map<string, RiskOrderRow[]>();
      for (const order of facts.orders) {
        if (order.customer_id === null) continue;
        const list = byCustomer.get(order.customer_id) ?? [];
        list.push(order);
        byCustomer.set(order.customer_id, list);
      }
      const values = new Map(facts.orderValues.map((row) => [row.currency_code, row]));
      return orderIds.map((id) => {
        const order = byId.get(id);
        if (!order) return null;
        const others = order.customer_id === null ? [] : (byCustomer.get(order.customer_id) ?? []);
        return assessOrder(order, others, values.get(order.currency_code));
      });
    }),
  };
}
