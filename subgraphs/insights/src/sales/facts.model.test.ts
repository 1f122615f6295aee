import type { EventPayloads } from "@nexus/events";
import { describe, expect, it } from "vitest";
import { toCartFact } from "../carts/carts.model.ts";
import { envelope } from "../test-env.ts";
import { outcomeOrderId, reversalReason, toOrderFacts, toRefundFacts } from "./facts.model.ts";

/** Every check the consumer makes of an event before it records anything. */

const ORDER = "00000000-0000-4000-8000-000000000001";
const CUSTOMER = "00000000-0000-4000-8000-000000000002";
const REFUND = "00000000-0000-4000-8000-000000000003";
const product = "0000000000000000000000aa";
const line = { productId: product, quantity: 1, unitPrice: 100 };

const placed = (changes: Partial<Record<keyof EventPayloads["OrderPlaced"], unknown>>) =>
  envelope("OrderPlaced", {
    orderId: ORDER,
    customerId: CUSTOMER,
    currencyCode: "USD",
    lines: [line],
    ...changes,
  } as EventPayloads["OrderPlaced"]);

describe("toOrderFacts", () => {
  it.each([
    [{ orderId: "42" }, "orderId is not a UUID"],
    [{ customerId: "someone" }, "customerId is neither a UUID nor null"],
    [{ currencyCode: "usd" }, "currencyCode is not an ISO 4217 code"],
    [{ countryCode: "GBR" }, "countryCode is not an ISO 3166-1 alpha-2 code"],
    [{ lines: [] }, "it has no lines"],
    [{ lines: [{ ...line, productId: "" }] }, "a line has no productId"],
    [{ lines: [{ ...line, quantity: -2 }] }, `quantity -2 of ${product} is not a positive integer`],
    [
      { lines: [{ ...line, unitPrice: -1 }] },
      `unitPrice -1 of ${product} is not a whole amount of minor units`,
    ],
    [
      {
        lines: [
          { ...line, quantity: 2_000_000_000 },
          { ...line, quantity: 2_000_000_000 },
        ],
      },
      "4000000000 units is more than one order can hold",
    ],
    [
      { lines: [{ ...line, quantity: 1_000_000, unitPrice: Number.MAX_SAFE_INTEGER }] },
      "the total is too large to add up exactly",
    ],
  ])("refuses %j", (changes, problem) => {
    const event = placed(changes);
    expect(() => toOrderFacts(event)).toThrow(
      `OrderPlaced for order ${event.payload.orderId} is malformed: ${problem}.`,
    );
  });

  it("takes a guest's order, and an order of an event without the later fields", () => {
    expect(toOrderFacts(placed({ customerId: null })).order.customer_id).toBeNull();
    const { order, lines } = toOrderFacts(placed({ customerId: undefined }));
    expect(order).toMatchObject({
      customer_id: null,
      country_code: null,
      historical: false,
      total_amount: 100,
    });
    expect(lines).toEqual([
      {
        order_id: ORDER,
        product_id: product,
        category_id: null,
        product_name: null,
        quantity: 1,
        unit_price: 100,
        amount: 100,
      },
    ]);
  });
});

const refunded = (changes: Partial<Record<keyof EventPayloads["OrderRefunded"], unknown>>) =>
  envelope("OrderRefunded", {
    refundId: REFUND,
    orderId: ORDER,
    customerId: CUSTOMER,
    currencyCode: "USD",
    amount: 100,
    lines: [line],
    reason: "returned",
    ...changes,
  } as EventPayloads["OrderRefunded"]);

describe("toRefundFacts", () => {
  it.each([
    [{ refundId: "r1" }, "refundId is not a UUID"],
    [{ orderId: "o1" }, "orderId is neither a UUID nor null"],
    [{ customerId: "c1" }, "customerId is neither a UUID nor null"],
    [{ currencyCode: "EURO" }, "currencyCode is not an ISO 4217 code"],
    [{ reason: undefined }, "reason is missing"],
    [{ lines: null }, "it has no lines"],
    [{ lines: [], amount: 0 }, "it refunds neither units nor money"],
    [{ amount: 10.5 }, "amount 10.5 is not a whole amount of minor units"],
    [{ amount: 99 }, "amount 99 is not the lines' total 100"],
  ])("refuses %j", (changes, problem) => {
    const event = refunded(changes);
    expect(() => toRefundFacts(event)).toThrow(
      `OrderRefunded ${event.payload.refundId} is malformed: ${problem}.`,
    );
  });

  it("takes a refund of an amount, without lines, as money given back and no units", () => {
    const facts = toRefundFacts(refunded({ lines: [], amount: 250 }));
    expect(facts.refund).toMatchObject({ amount: 250, order_id: ORDER });
    expect(facts.lines).toEqual([]);
  });

  it("takes a return without an order or a customer", () => {
    expect(toRefundFacts(refunded({ orderId: null, customerId: null })).refund).toMatchObject({
      order_id: null,
      customer_id: null,
      amount: 100,
    });
  });
});

describe("outcome events", () => {
  it("refuses one without a UUID", () => {
    const event = envelope("OrderShipped", { orderId: "x" });
    expect(() => outcomeOrderId(event)).toThrow(
      `OrderShipped ${event.id} is malformed: orderId is not a UUID.`,
    );
  });

  it("refuses a reversal without a reason", () => {
    const event = envelope("OrderCancelled", { orderId: ORDER } as EventPayloads["OrderCancelled"]);
    expect(() => reversalReason(event)).toThrow(
      `OrderCancelled ${event.id} is malformed: reason is missing.`,
    );
    expect(reversalReason(envelope("OrderRejected", { orderId: ORDER, reason: "declined" }))).toBe(
      "declined",
    );
  });
});

const cart = (changes: Partial<Record<keyof EventPayloads["CartUpdated"], unknown>>) =>
  envelope("CartUpdated", {
    customerId: CUSTOMER,
    currencyCode: "USD",
    lines: [line],
    ...changes,
  } as EventPayloads["CartUpdated"]);

describe("toCartFact", () => {
  it.each([
    [{ customerId: null }, "customerId is not a UUID"],
    [{ currencyCode: "us" }, "currencyCode is neither an ISO 4217 code nor null"],
    [{ lines: "none" }, "lines is not a list"],
    [{ lines: [{ ...line, productId: 7 }] }, "a line has no productId"],
    [{ lines: [{ ...line, quantity: 0 }] }, `quantity 0 of ${product} is not a positive integer`],
    [
      { lines: [{ ...line, unitPrice: 0.5 }] },
      `unitPrice 0.5 of ${product} is neither a whole amount nor null`,
    ],
  ])("refuses %j", (changes, problem) => {
    const event = cart(changes);
    expect(() => toCartFact(event)).toThrow(`CartUpdated ${event.id} is malformed: ${problem}.`);
  });
});
