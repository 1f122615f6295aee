import { isUuid } from "@nexus/core";
import DataLoader from "dataloader";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { type PaymentModel, toPaymentModel } from "../payment/payment.model.ts";
import { findPaymentsByOrderIds } from "../payment/payment.repository.ts";
import {
  type OrderDiscountModel,
  type OrderLineModel,
  type OrderModel,
  type OrderStatusChangeModel,
  toOrderDiscountModel,
  toOrderLineModel,
  toOrderModel,
  toOrderStatusChangeModel,
} from "./order.model.ts";
import {
  countOrdersByCustomerIds,
  findLinesByOrderIds,
  findOrderDiscountsByOrderIds,
  findOrderPages,
  findOrdersByIds,
  findStatusChangesByOrderIds,
  type OrderPageRequest,
} from "./order.repository.ts";

/** The keys `orderPage` takes, for resolvers that build them. */
export type { OrderKey, OrderPageRequest } from "./order.repository.ts";

const pageKey = (request: OrderPageRequest): string =>
  JSON.stringify([
    request.customerId,
    request.after?.placedAt.toISOString(),
    request.after?.id,
    request.limit,
    request.backward,
  ]);

export function createOrderLoaders(db: Kysely<Database>) {
  /** Ids that are not UUIDs cannot exist, so they resolve to null without being sent to PostgreSQL. */
  const orderById = new DataLoader<string, OrderModel | null>(async (ids) => {
    const rows = await findOrdersByIds(db, ids.filter(isUuid));
    const byId = new Map(rows.map((row) => [row.id, toOrderModel(row)]));
    return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
  });

  return {
    orderById,

    linesByOrderId: new DataLoader<string, OrderLineModel[]>(async (orderIds) => {
      const byOrder = new Map<string, OrderLineModel[]>(orderIds.map((id) => [id, []]));
      for (const row of await findLinesByOrderIds(db, orderIds)) {
        byOrder.get(row.order_id)?.push(toOrderLineModel(row));
      }
      return orderIds.map((id) => byOrder.get(id) ?? []);
    }),

    /** Keyed by the order, for its currency. */
    discountsByOrder: new DataLoader<OrderModel, OrderDiscountModel[], string>(
      async (orders) => {
        const byOrder = new Map<string, OrderDiscountModel[]>(orders.map((order) => [order.id, []]));
        const currencies = new Map(orders.map((order) => [order.id, order.currencyCode]));
        for (const row of await findOrderDiscountsByOrderIds(
          db,
          orders.map((order) => order.id),
        )) {
          byOrder.get(row.order_id)?.push(toOrderDiscountModel(row, currencies.get(row.order_id) ?? ""));
        }
        return orders.map((order) => byOrder.get(order.id) ?? []);
      },
      { cacheKeyFn: (order) => order.id },
    ),

    statusHistoryByOrderId: new DataLoader<string, OrderStatusChangeModel[]>(async (orderIds) => {
      const byOrder = new Map<string, OrderStatusChangeModel[]>(orderIds.map((id) => [id, []]));
      for (const row of await findStatusChangesByOrderIds(db, orderIds)) {
        byOrder.get(row.order_id)?.push(toOrderStatusChangeModel(row));
      }
      return orderIds.map((id) => byOrder.get(id) ?? []);
    }),

    paymentByOrderId: new DataLoader<string, PaymentModel | null>(async (orderIds) => {
      const byOrder = new Map(
        (await findPaymentsByOrderIds(db, orderIds)).map((row) => [row.order_id, toPaymentModel(row)]),
      );
      return orderIds.map((id) => byOrder.get(id) ?? null);
    }),

    /** Pages of several customers' orders (e.g. an admin's `_entities` over many users) in one query. */
    orderPage: new DataLoader<OrderPageRequest, OrderModel[], string>(
      async (requests) => {
        const pages = requests.map((): OrderModel[] => []);
        for (const row of await findOrderPages(db, requests)) {
          const order = toOrderModel(row);
          // The orders on a page are then already loaded for any reference to them in this request.
          orderById.prime(order.id, order);
          pages[row.request]?.push(order);
        }
        return pages;
      },
      { cacheKeyFn: pageKey },
    ),

    orderCountByCustomerId: new DataLoader<string, number>(async (customerIds) => {
      const counts = await countOrdersByCustomerIds(db, customerIds.filter(isUuid));
      const byCustomer = new Map(counts.map((row) => [row.customerId, row.count]));
      return customerIds.map((id) => byCustomer.get(id) ?? 0);
    }),
  };
}

export type OrderLoaders = ReturnType<typeof createOrderLoaders>;
