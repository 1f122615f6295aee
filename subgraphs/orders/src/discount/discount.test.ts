import { randomUUID } from "node:crypto";
import { createPostgresDb } from "@nexus/stores";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../db/database.ts";
import type { DiscountRule } from "../pricing/pricing.model.ts";
import { createTestOperations, money, useTestEnv } from "../test-env.ts";
import {
  countRedemptions,
  findAutomaticDiscounts,
  findDiscountByCode,
  insertDiscount,
  isDiscountCodeTaken,
  type RedeemResult,
  redeemDiscounts,
  releaseDiscountRedemptions,
  toDiscountRule,
} from "./discount.repository.ts";

const env = useTestEnv("orders");
const { A, B, ADMIN } = env;
const { run, data } = createTestOperations(env);

const staff = { as: { id: ADMIN, role: "ADMIN" as const } };
const customer = (id: string) => ({ as: { id } });
const codes = (result: { errors?: readonly { extensions?: Record<string, unknown> }[] | undefined }) =>
  result.errors?.map((e) => e.extensions?.code);

const P1 = "65a0000000000000000000a1";
const P2 = "65a0000000000000000000a2";

const DISCOUNT_FIELDS = `id code title kind percentOff amountOff { amount currencyCode }
  minimumSubtotal { amount currencyCode } startsAt endsAt usageLimit perCustomerLimit usageCount
  scope categoryIds productIds active createdAt`;
const CREATE = `mutation ($input: CreateDiscountInput!) { createDiscount(input: $input) {
  discount { ${DISCOUNT_FIELDS} } userErrors { field code message } } }`;
const UPDATE = `mutation ($input: UpdateDiscountInput!) { updateDiscount(input: $input) {
  discount { ${DISCOUNT_FIELDS} } userErrors { field code message } } }`;
const ONE = `query ($id: ID!) { discount(id: $id) { ${DISCOUNT_FIELDS} } }`;
const LIST = `query ($first: Int, $after: String, $filter: DiscountFilter) {
  discounts(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id code active } } totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;

interface DiscountShape {
  id: string;
  code: string | null;
  title: string;
  kind: string;
  percentOff: number | null;
  amountOff: { amount: number; currencyCode: string } | null;
  minimumSubtotal: { amount: number; currencyCode: string } | null;
  startsAt: string | null;
  endsAt: string | null;
  usageLimit: number | null;
  perCustomerLimit: number | null;
  usageCount: number;
  scope: string;
  categoryIds: string[];
  productIds: string[];
  active: boolean;
  createdAt: string;
}
interface Payload {
  discount: DiscountShape | null;
  userErrors: { field: string[] | null; code: string; message: string }[];
}
interface ListShape {
  edges: { cursor: string; node: { id: string; code: string | null; active: boolean } }[];
  totalCount: number;
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
}

async function create(input: Record<string, unknown>): Promise<Payload> {
  return (await data<{ createDiscount: Payload }>(CREATE, { input }, staff)).createDiscount;
}
async function update(input: Record<string, unknown>): Promise<Payload> {
  return (await data<{ updateDiscount: Payload }>(UPDATE, { input }, staff)).updateDiscount;
}
async function created(input: Record<string, unknown>): Promise<DiscountShape> {
  const payload = await create(input);
  expect(payload.userErrors).toEqual([]);
  if (!payload.discount) throw new Error("no discount");
  return payload.discount;
}
async function list(variables: Record<string, unknown> = {}): Promise<ListShape> {
  return (await data<{ discounts: ListShape }>(LIST, variables, staff)).discounts;
}
const errorsOf = (payload: Payload) => payload.userErrors.map((e) => [e.code, e.field]);
const discountCount = async () =>
  (
    await env.pg.db
      .selectFrom("discounts")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .executeTakeFirstOrThrow()
  ).n;

const PERCENT = { code: "  spring-10 ", title: "  10% off everything  ", kind: "PERCENTAGE", percentOff: 10 };

// The shared reset empties orders (and with them redemptions); discounts are this file's own.
beforeEach(async () => {
  await env.pg.db.deleteFrom("discount_redemptions").execute();
  await env.pg.db.deleteFrom("discounts").execute();
});

describe("createDiscount", () => {
  it("creates a code upper case and trimmed, and reads it back with its percentage", async () => {
    const discount = await created({ ...PERCENT, percentOff: 12.5, usageLimit: 100, perCustomerLimit: 1 });
    expect(discount).toMatchObject({
      code: "SPRING-10",
      title: "10% off everything",
      kind: "PERCENTAGE",
      percentOff: 12.5,
      amountOff: null,
      minimumSubtotal: null,
      startsAt: null,
      endsAt: null,
      usageLimit: 100,
      perCustomerLimit: 1,
      usageCount: 0,
      scope: "ORDER",
      categoryIds: [],
      productIds: [],
      active: true,
    });
    const row = await env.pg.db
      .selectFrom("discounts")
      .selectAll()
      .where("id", "=", discount.id)
      .executeTakeFirstOrThrow();
    expect(row.percent_ppm).toBe(125_000);
    expect((await data<{ discount: DiscountShape }>(ONE, { id: discount.id }, staff)).discount).toEqual(
      discount,
    );
    expect(
      (await data<{ discount: DiscountShape }>(ONE, { id: discount.id.toUpperCase() }, staff)).discount?.id,
    ).toBe(discount.id);
  });

  it("creates a fixed amount with a minimum and dates, as Money in the store currency", async () => {
    const discount = await created({
      code: "TAKE5",
      title: "5 off",
      kind: "FIXED_AMOUNT",
      amountOff: 500,
      minimumSubtotal: 2000,
      startsAt: "2026-01-01T00:00:00.000Z",
      endsAt: "2026-02-01T00:00:00.000Z",
    });
    expect(discount).toMatchObject({
      percentOff: null,
      amountOff: money(500),
      minimumSubtotal: money(2000),
      startsAt: "2026-01-01T00:00:00.000Z",
      endsAt: "2026-02-01T00:00:00.000Z",
    });
  });

  it("creates automatic discounts for categories and products, ids deduplicated and product ids lower case", async () => {
    const shipping = await created({
      title: "Free shipping on these",
      kind: "FREE_SHIPPING",
      scope: "PRODUCTS",
      productIds: [P1.toUpperCase(), P2, P1],
    });
    expect(shipping).toMatchObject({
      code: null,
      kind: "FREE_SHIPPING",
      scope: "PRODUCTS",
      productIds: [P1, P2],
    });
    const categories = await created({
      title: "Clothing",
      kind: "PERCENTAGE",
      percentOff: 0.0001,
      scope: "CATEGORIES",
      categoryIds: ["shoes", "tees", "shoes"],
    });
    expect(categories).toMatchObject({
      code: null,
      percentOff: 0.0001,
      categoryIds: ["shoes", "tees"],
      productIds: [],
    });
  });

  it("takes percentages with up to four decimals from 0.0001 to 100, and nothing else", async () => {
    for (const [percentOff, ppm] of [
      [100, 1_000_000],
      [33.3333, 333_333],
      [0.1, 1000],
      [99.9999, 999_999],
    ] as const) {
      const discount = await created({ title: "t", kind: "PERCENTAGE", percentOff });
      expect(discount.percentOff).toBe(percentOff);
      const row = await env.pg.db
        .selectFrom("discounts")
        .select("percent_ppm")
        .where("id", "=", discount.id)
        .executeTakeFirstOrThrow();
      expect(row.percent_ppm).toBe(ppm);
    }
    for (const percentOff of [0, -5, 100.0001, 12.34567, 0.00001, 1e9]) {
      expect(errorsOf(await create({ title: "t", kind: "PERCENTAGE", percentOff }))).toEqual([
        ["INVALID_DISCOUNT_VALUE", ["input", "percentOff"]],
      ]);
    }
    expect(errorsOf(await create({ title: "t", kind: "PERCENTAGE" }))).toEqual([
      ["INVALID_DISCOUNT_VALUE", ["input", "percentOff"]],
    ]);
    expect(await discountCount()).toBe("4");
  });

  it("returns every error at once and writes nothing", async () => {
    const payload = await create({
      code: "no spaces!",
      title: "   ",
      kind: "FIXED_AMOUNT",
      percentOff: 10,
      amountOff: 0,
      minimumSubtotal: -1,
      startsAt: "2026-03-01T00:00:00.000Z",
      endsAt: "2026-03-01T00:00:00.000Z",
      usageLimit: 0,
      perCustomerLimit: -2,
      scope: "PRODUCTS",
      productIds: [P1, "not-an-object-id", "65a0000000000000000000zz"],
      categoryIds: ["shoes"],
    });
    expect(payload.discount).toBeNull();
    expect(errorsOf(payload)).toEqual([
      ["INVALID_DISCOUNT_CODE", ["input", "code"]],
      ["INVALID_TITLE", ["input", "title"]],
      ["INVALID_DISCOUNT_VALUE", ["input", "percentOff"]],
      ["INVALID_AMOUNT", ["input", "amountOff"]],
      ["INVALID_AMOUNT", ["input", "minimumSubtotal"]],
      ["INVALID_DATES", ["input", "endsAt"]],
      ["INVALID_LIMIT", ["input", "usageLimit"]],
      ["INVALID_LIMIT", ["input", "perCustomerLimit"]],
      ["INVALID_SCOPE", ["input", "categoryIds"]],
      ["INVALID_SCOPE", ["input", "productIds", "1"]],
      ["INVALID_SCOPE", ["input", "productIds", "2"]],
    ]);
    expect(await discountCount()).toBe("0");
  });

  it("refuses values that do not fit the kind, and scopes without (or with too many) ids", async () => {
    expect(errorsOf(await create({ title: "t", kind: "FIXED_AMOUNT" }))).toEqual([
      ["INVALID_DISCOUNT_VALUE", ["input", "amountOff"]],
    ]);
    expect(
      errorsOf(await create({ title: "t", kind: "FREE_SHIPPING", percentOff: 5, amountOff: 5 })),
    ).toEqual([
      ["INVALID_DISCOUNT_VALUE", ["input", "percentOff"]],
      ["INVALID_DISCOUNT_VALUE", ["input", "amountOff"]],
    ]);
    expect(errorsOf(await create({ title: "t", kind: "FREE_SHIPPING", scope: "CATEGORIES" }))).toEqual([
      ["INVALID_SCOPE", ["input", "categoryIds"]],
    ]);
    const tooMany = Array.from({ length: 101 }, (_, i) => `c${i}`);
    expect(
      errorsOf(
        await create({
          title: "t",
          kind: "FREE_SHIPPING",
          scope: "CATEGORIES",
          categoryIds: [...tooMany.slice(0, 1), "", "x".repeat(101)],
        }),
      ),
    ).toEqual([
      ["INVALID_SCOPE", ["input", "categoryIds", "1"]],
      ["INVALID_SCOPE", ["input", "categoryIds", "2"]],
    ]);
    expect(
      errorsOf(
        await create({ title: "t", kind: "FREE_SHIPPING", scope: "CATEGORIES", categoryIds: tooMany }),
      ),
    ).toEqual([["INVALID_SCOPE", ["input", "categoryIds"]]]);
    expect(
      errorsOf(await create({ title: "t", kind: "FREE_SHIPPING", scope: "ORDER", productIds: [P1] })),
    ).toEqual([["INVALID_SCOPE", ["input", "productIds"]]]);
    expect(errorsOf(await create({ title: "x".repeat(201), kind: "FREE_SHIPPING" }))).toEqual([
      ["INVALID_TITLE", ["input", "title"]],
    ]);
    for (const code of ["", "   ", "x".repeat(65), "ÄBC", "a b"]) {
      expect(errorsOf(await create({ code, title: "t", kind: "FREE_SHIPPING" }))).toEqual([
        ["INVALID_DISCOUNT_CODE", ["input", "code"]],
      ]);
    }
    expect(
      errorsOf(await create({ title: "t", kind: "FREE_SHIPPING", startsAt: "1969-12-31T23:59:59.999Z" })),
    ).toEqual([["INVALID_DATES", ["input", "startsAt"]]]);
    expect(await discountCount()).toBe("0");
  });

  it("knows the unique violation of a code when an insert loses a race", async () => {
    const row = ruleRow({ code: "RACED" });
    await insertDiscount(env.pg.db, row);
    const lost = await insertDiscount(env.pg.db, { ...row, id: randomUUID() }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(isDiscountCodeTaken(lost)).toBe(true);
    expect(isDiscountCodeTaken(new Error("other"))).toBe(false);
  });

  it("refuses a code another discount holds, whatever its case, also when created at the same time", async () => {
    await created({ ...PERCENT, code: "SUMMER" });
    expect(errorsOf(await create({ ...PERCENT, code: " summer " }))).toEqual([
      ["DUPLICATE_DISCOUNT_CODE", ["input", "code"]],
    ]);
    const racers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => create({ ...PERCENT, code: i % 2 === 0 ? "race" : "RACE" })),
    );
    expect(racers.filter((payload) => payload.discount !== null)).toHaveLength(1);
    expect(racers.flatMap((payload) => payload.userErrors.map((e) => e.code))).toEqual(
      Array(9).fill("DUPLICATE_DISCOUNT_CODE"),
    );
    expect(await discountCount()).toBe("2");
  });
});

describe("updateDiscount", () => {
  it("changes what is given, clears what is null and keeps what is left out", async () => {
    const discount = await created({
      ...PERCENT,
      minimumSubtotal: 1000,
      usageLimit: 5,
      perCustomerLimit: 2,
      startsAt: "2026-01-01T00:00:00.000Z",
    });
    const payload = await update({
      id: discount.id,
      title: "  Spring sale ",
      minimumSubtotal: null,
      endsAt: "2026-06-01T00:00:00.000Z",
      usageLimit: null,
      active: false,
    });
    expect(payload.userErrors).toEqual([]);
    expect(payload.discount).toEqual({
      ...discount,
      title: "Spring sale",
      minimumSubtotal: null,
      endsAt: "2026-06-01T00:00:00.000Z",
      usageLimit: null,
      active: false,
    });
    const again = await update({
      id: discount.id.toUpperCase(),
      startsAt: null,
      active: true,
      perCustomerLimit: 3,
    });
    expect(again.discount).toMatchObject({
      startsAt: null,
      active: true,
      perCustomerLimit: 3,
      title: "Spring sale",
    });
  });

  it("is DISCOUNT_NOT_FOUND for an unknown or malformed id", async () => {
    for (const id of [randomUUID(), "not-a-uuid"]) {
      const payload = await update({ id, title: "x" });
      expect(payload.discount).toBeNull();
      expect(errorsOf(payload)).toEqual([["DISCOUNT_NOT_FOUND", ["input", "id"]]]);
    }
  });

  it("returns every error at once and writes nothing", async () => {
    const discount = await created({ ...PERCENT, startsAt: "2026-05-01T00:00:00.000Z", usageLimit: 3 });
    const payload = await update({
      id: discount.id,
      title: null,
      minimumSubtotal: -5,
      endsAt: "2026-04-01T00:00:00.000Z",
      perCustomerLimit: 0,
      usageLimit: 0,
      active: false,
    });
    expect(errorsOf(payload)).toEqual([
      ["INVALID_TITLE", ["input", "title"]],
      ["INVALID_AMOUNT", ["input", "minimumSubtotal"]],
      ["INVALID_LIMIT", ["input", "usageLimit"]],
      ["INVALID_LIMIT", ["input", "perCustomerLimit"]],
      ["INVALID_DATES", ["input", "endsAt"]],
    ]);
    expect((await data<{ discount: DiscountShape }>(ONE, { id: discount.id }, staff)).discount).toEqual(
      discount,
    );
    // A start moved past the end it already has.
    const ended = await created({ ...PERCENT, code: "ENDED", endsAt: "2026-05-01T00:00:00.000Z" });
    expect(errorsOf(await update({ id: ended.id, startsAt: "2026-05-01T00:00:00.000Z" }))).toEqual([
      ["INVALID_DATES", ["input", "startsAt"]],
    ]);
    expect(errorsOf(await update({ id: ended.id, title: "" }))).toEqual([
      ["INVALID_TITLE", ["input", "title"]],
    ]);
  });

  it("refuses a usage limit below the uses the discount already has (LIMIT_BELOW_USAGE)", async () => {
    const discount = await created({ ...PERCENT, usageLimit: 5 });
    for (let i = 0; i < 3; i++) expect(await redeemFor(discount.id, A)).toEqual({ ok: true });
    expect(errorsOf(await update({ id: discount.id, usageLimit: 2 }))).toEqual([
      ["LIMIT_BELOW_USAGE", ["input", "usageLimit"]],
    ]);
    const payload = await update({ id: discount.id, usageLimit: 3 });
    expect(payload.discount).toMatchObject({ usageLimit: 3, usageCount: 3 });
  });
});

describe("discounts and discount", () => {
  /** Discounts inserted with chosen creation times, two of them at the same instant. */
  async function seed(): Promise<string[]> {
    const base = Date.UTC(2026, 0, 1);
    const rows = [0, 1, 2, 2, 3].map((minutes, i) => ({
      id: randomUUID(),
      code: i === 4 ? null : `CODE-${i}`,
      title: `Discount ${i}`,
      kind: "FREE_SHIPPING" as const,
      percent_ppm: null,
      amount: null,
      minimum_subtotal: null,
      starts_at: null,
      ends_at: null,
      usage_limit: null,
      per_customer_limit: null,
      scope: "ORDER" as const,
      active: i !== 1,
      created_at: new Date(base + minutes * 60_000),
    }));
    await env.pg.db.insertInto("discounts").values(rows).execute();
    // Newest first; at the same instant the greater id first.
    return rows
      .sort((a, b) => b.created_at.getTime() - a.created_at.getTime() || (a.id < b.id ? 1 : -1))
      .map((row) => row.id);
  }

  it("pages newest first with a total count", async () => {
    const expected = await seed();
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page: ListShape = await list({ first: 2, after });
      expect(page.totalCount).toBe(5);
      expect(page.pageInfo.hasPreviousPage).toBe(after !== null);
      seen.push(...page.edges.map((edge) => edge.node.id));
      pages++;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(expected);
    expect((await list()).edges.map((edge) => edge.node.id)).toEqual(expected);
  });

  it("filters by code (any case), active and automatic", async () => {
    await seed();
    const ids = async (filter: Record<string, unknown>) => {
      const page = await list({ filter });
      expect(page.totalCount).toBe(page.edges.length);
      return page.edges.map((edge) => edge.node.code);
    };
    expect(await ids({ code: " code-2 " })).toEqual(["CODE-2"]);
    expect(await ids({ code: "nope" })).toEqual([]);
    expect((await ids({ active: false })).length).toBe(1);
    expect((await ids({ active: true })).length).toBe(4);
    expect(await ids({ automatic: true })).toEqual([null]);
    expect((await ids({ automatic: false, active: true })).length).toBe(3);
    expect(await ids({ code: "CODE-1", active: true })).toEqual([]);
  });

  it("refuses a page size outside 1 to 100 and a cursor it did not hand out", async () => {
    for (const first of [0, 101])
      expect(codes(await run(LIST, { first }, staff))).toEqual(["BAD_USER_INPUT"]);
    const foreign = Buffer.from(JSON.stringify(["nope", 1])).toString("base64url");
    for (const after of ["garbage", foreign]) {
      expect(codes(await run(LIST, { after }, staff))).toEqual(["BAD_USER_INPUT"]);
    }
  });

  it("reads one discount, null for an unknown or malformed id", async () => {
    expect((await data<{ discount: null }>(ONE, { id: randomUUID() }, staff)).discount).toBeNull();
    expect((await data<{ discount: null }>(ONE, { id: "42" }, staff)).discount).toBeNull();
  });

  it("is for staff with discounts:manage only", async () => {
    const discount = await created(PERCENT);
    const forbidden: [string, Record<string, unknown>][] = [
      [LIST, {}],
      [ONE, { id: discount.id }],
      [CREATE, { input: { title: "t", kind: "FREE_SHIPPING" } }],
      [UPDATE, { input: { id: discount.id, active: false } }],
    ];
    for (const [query, variables] of forbidden) {
      expect(codes(await run(query, variables, customer(A)))).toEqual(["FORBIDDEN"]);
    }
    expect(await discountCount()).toBe("1");
  });
});

// ---- The pricing engine's readers and the redemption ledger, on the repository ----

/** A discount straight into the table, FREE_SHIPPING unless told otherwise, as the engine reads it. */
async function insertRule(values: Parameters<typeof ruleRow>[0] = {}): Promise<DiscountRule> {
  const row = await env.pg.db
    .insertInto("discounts")
    .values(ruleRow(values))
    .returningAll()
    .executeTakeFirstOrThrow();
  return toDiscountRule(row);
}

function ruleRow(values: {
  code?: string | null;
  usage_limit?: number | null;
  per_customer_limit?: number | null;
  active?: boolean;
  starts_at?: Date | null;
  ends_at?: Date | null;
  created_at?: Date;
}) {
  return {
    id: randomUUID(),
    code: null,
    title: "Rule",
    kind: "FREE_SHIPPING" as const,
    percent_ppm: null,
    amount: null,
    minimum_subtotal: null,
    starts_at: null,
    ends_at: null,
    usage_limit: null,
    per_customer_limit: null,
    scope: "ORDER" as const,
    ...values,
  };
}

/** One checkout's transaction: its order row, then the redemptions; rolled back unless all are ok. */
async function checkoutWith(
  db: Kysely<Database>,
  buyer: { customerId: string | null; email: string | null },
  discounts: readonly DiscountRule[],
): Promise<RedeemResult> {
  class Refused extends Error {
    readonly result: RedeemResult;
    constructor(result: RedeemResult) {
      super("refused");
      this.result = result;
    }
  }
  try {
    return await db.transaction().execute(async (trx) => {
      const { id } = await trx
        .insertInto("orders")
        .values({ customer_id: buyer.customerId ?? randomUUID(), currency_code: "USD", total_amount: 100 })
        .returning("id")
        .executeTakeFirstOrThrow();
      const result = await redeemDiscounts(trx, { orderId: id, ...buyer }, discounts);
      if (!result.ok) throw new Refused(result);
      return result;
    });
  } catch (error) {
    if (error instanceof Refused) return error.result;
    throw error;
  }
}

async function redeemFor(discountId: string, customerId: string): Promise<RedeemResult> {
  const row = await env.pg.db
    .selectFrom("discounts")
    .selectAll()
    .where("id", "=", discountId)
    .executeTakeFirstOrThrow();
  return checkoutWith(env.pg.db, { customerId, email: null }, [toDiscountRule(row)]);
}

const usedCount = async (id: string) =>
  (
    await env.pg.db
      .selectFrom("discounts")
      .select("used_count")
      .where("id", "=", id)
      .executeTakeFirstOrThrow()
  ).used_count;

describe("the pricing engine's readers", () => {
  it("finds a code in any case, active or not, and nothing for an unknown one", async () => {
    await insertRule({ code: "WINTER", active: false, usage_limit: 7 });
    expect(await findDiscountByCode(env.pg.db, " winter ")).toMatchObject({
      code: "WINTER",
      active: false,
      usageLimit: 7,
      usageCount: 0,
      kind: "FREE_SHIPPING",
      scope: "ORDER",
      categoryIds: [],
      productIds: [],
    });
    expect(await findDiscountByCode(env.pg.db, "SUMMER")).toBeUndefined();
  });

  it("lists the automatic discounts that apply now, oldest first", async () => {
    const now = new Date("2026-06-01T12:00:00.000Z");
    const hour = 3_600_000;
    const at = (offset: number) => new Date(now.getTime() + offset);
    const wanted = [
      ruleRow({ created_at: at(-5 * hour) }),
      ruleRow({ created_at: at(-4 * hour), starts_at: now, ends_at: at(1) }),
      ruleRow({ created_at: at(-3 * hour), starts_at: at(-hour), ends_at: null }),
    ];
    const unwanted = [
      ruleRow({ created_at: at(-6 * hour), active: false }),
      ruleRow({ created_at: at(-6 * hour), code: "CODED" }),
      ruleRow({ created_at: at(-6 * hour), starts_at: at(1) }),
      ruleRow({ created_at: at(-6 * hour), ends_at: now }),
    ];
    await env.pg.db
      .insertInto("discounts")
      .values([...unwanted, ...[...wanted].reverse()])
      .execute();
    expect((await findAutomaticDiscounts(env.pg.db, now)).map((rule) => rule.id)).toEqual(
      wanted.map((w) => w.id),
    );
  });
});

describe("the redemption ledger", () => {
  /** A pool of its own, large enough for the checkouts to run side by side on separate connections. */
  let racing: Kysely<Database>;
  beforeAll(() => {
    racing = createPostgresDb<Database>(env.pg.url, { maxConnections: 25 });
  });
  afterAll(() => racing?.destroy());

  it("never passes a usage limit: 50 checkouts at once for a code with 10 uses give exactly 10", async () => {
    const rule = await insertRule({ code: "TEN", usage_limit: 10 });
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        checkoutWith(racing, { customerId: randomUUID(), email: null }, [rule]),
      ),
    );
    const elapsed = performance.now() - started;
    console.info(`50 concurrent redemptions of one code (limit 10) took ${elapsed.toFixed(0)} ms`);
    expect(results.filter((result) => result.ok)).toHaveLength(10);
    expect(results.filter((result) => !result.ok)).toEqual(
      Array(40).fill({ ok: false, discountId: rule.id, code: "DISCOUNT_USED_UP" }),
    );
    expect(await usedCount(rule.id)).toBe(10);
    const redemptions = await env.pg.db.selectFrom("discount_redemptions").selectAll().execute();
    expect(redemptions).toHaveLength(10);
    // The refused checkouts rolled back, their orders with them.
    expect(await env.pg.db.selectFrom("orders").select("id").execute()).toHaveLength(10);
  });

  it("holds a per-customer limit under concurrency, for a customer and for a guest's email", async () => {
    const rule = await insertRule({ code: "ONCE", per_customer_limit: 1 });
    const mine = await Promise.all(
      Array.from({ length: 10 }, () => checkoutWith(racing, { customerId: A, email: null }, [rule])),
    );
    expect(mine.filter((result) => result.ok)).toHaveLength(1);
    expect(mine.filter((result) => !result.ok)).toEqual(
      Array(9).fill({ ok: false, discountId: rule.id, code: "DISCOUNT_CUSTOMER_LIMIT_REACHED" }),
    );
    const guest = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        checkoutWith(
          racing,
          { customerId: null, email: i % 2 ? "Guest@Example.com" : "guest@example.com " },
          [rule],
        ),
      ),
    );
    expect(guest.filter((result) => result.ok)).toHaveLength(1);
    expect(await usedCount(rule.id)).toBe(2);
    expect(await countRedemptions(env.pg.db, rule.id, { customerId: A })).toBe(1);
    expect(await countRedemptions(env.pg.db, rule.id, { customerId: B })).toBe(0);
    expect(await countRedemptions(env.pg.db, rule.id, { email: "GUEST@example.com" })).toBe(1);
    const [row] = await env.pg.db
      .selectFrom("discount_redemptions")
      .selectAll()
      .where("customer_id", "is", null)
      .execute();
    expect(row?.email).toBe("guest@example.com");
    // Another customer is not held back by A's use.
    expect(await checkoutWith(env.pg.db, { customerId: B, email: null }, [rule])).toEqual({ ok: true });
  });

  it("gives a use back when released, once however often it is released", async () => {
    const rule = await insertRule({ code: "BACK", usage_limit: 1, per_customer_limit: 1 });
    const other = await insertRule({ code: "OTHER" });
    expect(await checkoutWith(env.pg.db, { customerId: A, email: null }, [other, rule])).toEqual({
      ok: true,
    });
    expect(await checkoutWith(env.pg.db, { customerId: B, email: null }, [rule])).toMatchObject({
      code: "DISCOUNT_USED_UP",
    });
    const { order_id: orderId } = await env.pg.db
      .selectFrom("discount_redemptions")
      .select("order_id")
      .where("discount_id", "=", rule.id)
      .executeTakeFirstOrThrow();
    const release = () => env.pg.db.transaction().execute((trx) => releaseDiscountRedemptions(trx, orderId));
    expect(await release()).toBe(2);
    expect(await release()).toBe(0);
    expect(await usedCount(rule.id)).toBe(0);
    expect(await usedCount(other.id)).toBe(0);
    expect(await countRedemptions(env.pg.db, rule.id, { customerId: A })).toBe(0);
    // The use is free again, and A may use it again: the released order no longer counts.
    expect(await checkoutWith(env.pg.db, { customerId: A, email: null }, [rule])).toEqual({ ok: true });
    expect(await usedCount(rule.id)).toBe(1);
    // Never below zero, even when the count was corrected by hand meanwhile.
    const { order_id: second } = await env.pg.db
      .selectFrom("discount_redemptions")
      .select("order_id")
      .where("discount_id", "=", rule.id)
      .where("released_at", "is", null)
      .executeTakeFirstOrThrow();
    await env.pg.db.updateTable("discounts").set({ used_count: 0 }).where("id", "=", rule.id).execute();
    expect(await env.pg.db.transaction().execute((trx) => releaseDiscountRedemptions(trx, second))).toBe(1);
    expect(await usedCount(rule.id)).toBe(0);
  });

  it("is DISCOUNT_NOT_FOUND for a switched-off or missing discount, and the caller's rollback undoes the rest", async () => {
    const first = await insertRule({ code: "FIRST" });
    const off = await insertRule({ code: "OFF", active: false });
    expect(await checkoutWith(env.pg.db, { customerId: A, email: null }, [off])).toEqual({
      ok: false,
      discountId: off.id,
      code: "DISCOUNT_NOT_FOUND",
    });
    const gone = { ...first, id: randomUUID() };
    expect(await checkoutWith(env.pg.db, { customerId: A, email: null }, [gone])).toMatchObject({
      code: "DISCOUNT_NOT_FOUND",
      discountId: gone.id,
    });
    // Both together (taken in id order, whichever comes first): the rollback leaves nothing taken.
    expect(await checkoutWith(env.pg.db, { customerId: A, email: null }, [off, first])).toEqual({
      ok: false,
      discountId: off.id,
      code: "DISCOUNT_NOT_FOUND",
    });
    expect(await usedCount(first.id)).toBe(0);
    expect(await env.pg.db.selectFrom("discount_redemptions").selectAll().execute()).toEqual([]);
  });

  it("needs someone to count a use against only when there is a discount to use", async () => {
    const rule = await insertRule({ code: "WHO" });
    expect(await checkoutWith(env.pg.db, { customerId: null, email: null }, [])).toEqual({ ok: true });
    await expect(checkoutWith(env.pg.db, { customerId: null, email: "  " }, [rule])).rejects.toThrow(
      /neither a customer nor an email/,
    );
    expect(await usedCount(rule.id)).toBe(0);
  });

  it("counts a discount given twice once", async () => {
    const rule = await insertRule({ code: "TWICE" });
    expect(await checkoutWith(env.pg.db, { customerId: A, email: null }, [rule, rule])).toEqual({ ok: true });
    expect(await usedCount(rule.id)).toBe(1);
  });
});
