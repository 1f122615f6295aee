import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestEnv, type TestEnv } from "../test-env.ts";
import { clearFacts, type FactOrder, insertOrders, productId, uuid } from "../test-facts.ts";
import { assessOrder, riskLevel } from "./risk.model.ts";
import type { RiskOrderRow } from "./risk.repository.ts";

let env: TestEnv;
let staff: string;
let customer: string;

beforeAll(async () => {
  env = await createTestEnv("insights-risk");
  staff = await env.auth.bearer(uuid(9999), "ADMIN");
  customer = await env.auth.bearer(uuid(1));
});

afterAll(async () => {
  await env?.close();
});

beforeEach(() => clearFacts(env.pg.db));

const HOUR = 3_600_000;
const AT = new Date("2026-05-20T12:00:00Z");
const hoursBefore = (hours: number) => new Date(AT.getTime() - hours * HOUR);

const row = (overrides: Partial<RiskOrderRow>): RiskOrderRow => ({
  order_id: uuid(500),
  customer_id: uuid(1),
  currency_code: "USD",
  placed_at: AT,
  country_code: "GB",
  total_amount: 1000,
  confirmed_at: AT,
  reversal_kind: null,
  reversal_reason: null,
  ...overrides,
});

const codes = (assessment: { reasons: { code: string }[] }) =>
  assessment.reasons.map((reason) => reason.code);

describe("unit: rules", () => {
  const earlier = (n: number, overrides: Partial<RiskOrderRow> = {}) =>
    row({ order_id: uuid(600 + n), placed_at: hoursBefore(24 * 40 + n), ...overrides });

  it("flags nothing for an order like the customer's others", () => {
    expect(
      assessOrder(row({}), [earlier(1), earlier(2)], { currency_code: "USD", p95: 5000, orders: 100 }),
    ).toEqual({
      score: 0,
      level: "LOW",
      reasons: [],
    });
  });

  it("compares the value with the customer's earlier sales in the same currency only", () => {
    const history = [
      earlier(1, { total_amount: 1000 }),
      earlier(2, { total_amount: 100_000, currency_code: "EUR" }),
    ];
    expect(codes(assessOrder(row({ total_amount: 3001 }), history, undefined))).toEqual([
      "HIGH_VALUE_FOR_CUSTOMER",
    ]);
    expect(codes(assessOrder(row({ total_amount: 3000 }), history, undefined))).toEqual([]);
    // Cancelled orders are not the customer's spending.
    const cancelled = [earlier(1, { total_amount: 100, reversal_kind: "CANCELLED" }), earlier(2)];
    expect(codes(assessOrder(row({ total_amount: 2000 }), cancelled, undefined))).toEqual([]);
  });

  it("flags a large first order once the store has enough orders to know what large is", () => {
    const values = { currency_code: "USD", p95: 5000, orders: 20 };
    expect(codes(assessOrder(row({ total_amount: 5000 }), [], values))).toEqual(["LARGE_FIRST_ORDER"]);
    expect(codes(assessOrder(row({ total_amount: 4999 }), [], values))).toEqual([]);
    expect(codes(assessOrder(row({ total_amount: 5000 }), [], { ...values, orders: 19 }))).toEqual([]);
    // Not a first order: only its value against the earlier one counts.
    expect(codes(assessOrder(row({ total_amount: 5000 }), [earlier(1)], values))).toEqual([
      "HIGH_VALUE_FOR_CUSTOMER",
    ]);
    const guest = assessOrder(row({ customer_id: null, total_amount: 9000 }), [], values);
    expect(guest).toMatchObject({ score: 40, level: "MEDIUM" });
    expect(codes(guest)).toEqual(["LARGE_FIRST_ORDER", "GUEST_CHECKOUT"]);
  });

  it("counts orders in the 24 hours before, this one included", () => {
    const recent = (n: number, hours: number) =>
      row({ order_id: uuid(700 + n), placed_at: hoursBefore(hours) });
    expect(codes(assessOrder(row({}), [recent(1, 1), recent(2, 23)], undefined))).toEqual(["ORDER_VELOCITY"]);
    expect(codes(assessOrder(row({}), [recent(1, 1), recent(2, 25)], undefined))).toEqual([]);
    // Orders placed after this one do not count.
    expect(codes(assessOrder(row({}), [recent(1, 1), recent(2, -1)], undefined))).toEqual([]);
  });

  it("weighs payment declines of the last 30 days, two at most", () => {
    const declined = (n: number, days: number, reason = "payment declined: insufficient funds") =>
      row({
        order_id: uuid(800 + n),
        placed_at: hoursBefore(24 * days),
        confirmed_at: null,
        reversal_kind: "REJECTED",
        reversal_reason: reason,
      });
    const one = assessOrder(row({}), [declined(1, 3)], undefined);
    expect(one.reasons).toMatchObject([{ code: "RECENT_PAYMENT_FAILURES", weight: 20 }]);
    const three = assessOrder(row({}), [declined(1, 3), declined(2, 5), declined(3, 9)], undefined);
    expect(three).toMatchObject({ score: 40, level: "MEDIUM", reasons: [{ weight: 40 }] });
    expect(codes(assessOrder(row({}), [declined(1, 31)], undefined))).toEqual([]);
    expect(codes(assessOrder(row({}), [declined(1, 3, "out of stock: sku 12")], undefined))).toEqual([]);
  });

  it("flags a country none of the customer's earlier orders went to", () => {
    expect(
      codes(
        assessOrder(row({ country_code: "FR" }), [earlier(1), earlier(2, { country_code: "DE" })], undefined),
      ),
    ).toEqual(["COUNTRY_MISMATCH"]);
    expect(
      codes(
        assessOrder(row({ country_code: "DE" }), [earlier(1), earlier(2, { country_code: "DE" })], undefined),
      ),
    ).toEqual([]);
    expect(
      codes(assessOrder(row({ country_code: "FR" }), [earlier(1, { country_code: null })], undefined)),
    ).toEqual([]);
  });

  it("caps the score at 100 and bands it", () => {
    expect([
      riskLevel(0),
      riskLevel(29),
      riskLevel(30),
      riskLevel(59),
      riskLevel(60),
      riskLevel(100),
    ]).toEqual(["LOW", "LOW", "MEDIUM", "MEDIUM", "HIGH", "HIGH"]);
    const everything = assessOrder(
      row({ total_amount: 100_000, country_code: "FR" }),
      [
        row({ order_id: uuid(1), placed_at: hoursBefore(2) }),
        row({ order_id: uuid(2), placed_at: hoursBefore(3) }),
        row({
          order_id: uuid(3),
          placed_at: hoursBefore(4),
          confirmed_at: null,
          reversal_kind: "REJECTED",
          reversal_reason: "payment declined: stolen card",
        }),
        row({
          order_id: uuid(4),
          placed_at: hoursBefore(5),
          confirmed_at: null,
          reversal_kind: "REJECTED",
          reversal_reason: "payment declined: stolen card",
        }),
      ],
      undefined,
    );
    expect(everything.score).toBe(100);
    expect(everything.level).toBe("HIGH");
  });
});

const RISK = `query ($reps: [_Any!]!) {
  _entities(representations: $reps) {
    ... on Order { id riskAssessment { score level reasons { code description weight } } }
  }
}`;
const order = (id: string) => ({ __typename: "Order", id });

describe("Order.riskAssessment", () => {
  const line = (amount: number) => [{ productId: productId(1), quantity: 1, unitPrice: amount }];

  async function seedStore(): Promise<{ regular: string; risky: string; guest: string }> {
    // 30 customers' orders of 1000 to 3900: the store's 95th percentile is about 3755.
    const store: FactOrder[] = Array.from({ length: 30 }, (_, i) => ({
      customerId: uuid(100 + i),
      placedAt: hoursBefore(24 * 60 + i),
      countryCode: "GB",
      lines: line(1000 + 100 * i),
    }));
    const customerA = uuid(1);
    const history: FactOrder[] = [
      { customerId: customerA, placedAt: hoursBefore(24 * 50), countryCode: "GB", lines: line(1000) },
      { customerId: customerA, placedAt: hoursBefore(24 * 40), countryCode: "GB", lines: line(1200) },
      {
        customerId: customerA,
        placedAt: hoursBefore(5),
        countryCode: "GB",
        lines: line(900),
        outcome: "REJECTED",
        reversalReason: "payment declined: do not honour",
      },
    ];
    const [regular, risky, guest] = await insertOrders(env.pg.db, [
      { customerId: customerA, placedAt: hoursBefore(24 * 30), countryCode: "GB", lines: line(1100) },
      { customerId: customerA, placedAt: AT, countryCode: "FR", lines: line(9000) },
      { customerId: null, placedAt: AT, countryCode: "GB", lines: line(50_000) },
    ]);
    await insertOrders(env.pg.db, [...store, ...history]);
    return { regular: regular as string, risky: risky as string, guest: guest as string };
  }

  it("assesses several orders with two queries, reasons heaviest first", async () => {
    const { regular, risky, guest } = await seedStore();
    env.pg.queries.length = 0;
    const result = await env.run(
      RISK,
      { reps: [order(regular), order(risky), order(guest), order(uuid(4242))] },
      staff,
    );
    expect(result.errors).toBeUndefined();
    const [first, second, third, unknown] = (result.data?._entities ?? []) as {
      riskAssessment: {
        score: number;
        level: string;
        reasons: { code: string; weight: number; description: string }[];
      } | null;
    }[];
    expect(first?.riskAssessment).toEqual({ score: 0, level: "LOW", reasons: [] });
    expect(second?.riskAssessment).toMatchObject({
      score: 70,
      level: "HIGH",
      reasons: [
        { code: "HIGH_VALUE_FOR_CUSTOMER", weight: 30 },
        { code: "COUNTRY_MISMATCH", weight: 20 },
        { code: "RECENT_PAYMENT_FAILURES", weight: 20 },
      ],
    });
    expect(second?.riskAssessment?.reasons[1]?.description).toContain("FR");
    expect(third?.riskAssessment).toMatchObject({
      score: 40,
      level: "MEDIUM",
      reasons: [{ code: "LARGE_FIRST_ORDER" }, { code: "GUEST_CHECKOUT" }],
    });
    expect(unknown).toEqual({ id: uuid(4242), riskAssessment: null });
    expect(env.pg.queries).toHaveLength(2);
  });

  it("answers null for an id that cannot be an order, without a query", async () => {
    env.pg.queries.length = 0;
    const result = await env.run(RISK, { reps: [order("not-a-uuid")] }, staff);
    expect(result.data?._entities).toEqual([{ id: "not-a-uuid", riskAssessment: null }]);
    expect(env.pg.queries).toHaveLength(0);
  });

  it("needs insights:read", async () => {
    const refused = await env.run(RISK, { reps: [order(uuid(1))] }, customer);
    expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const anonymous = await env.run(RISK, { reps: [order(uuid(1))] });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });
});
