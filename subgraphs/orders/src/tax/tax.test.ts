import { randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import { percentToPpm } from "../pricing/pricing.ts";
import { CLOTHING, createTestOperations, ELECTRONICS, useTestEnv } from "../test-env.ts";
import { findTaxRatesForCountry, upsertTaxRate } from "./tax.repository.ts";

const env = useTestEnv("orders");
const { A, ADMIN } = env;
const { run, data } = createTestOperations(env);

const staff = { as: { id: ADMIN, role: "ADMIN" as const } };
const customer = { as: { id: A } };

const RATE_FIELDS = "id countryCode categoryId name ratePercent";
const ERRORS = "userErrors { field code message }";
const RATES = `query ($countryCode: String) { taxRates(countryCode: $countryCode) { ${RATE_FIELDS} } }`;
const SET = `mutation ($input: SetTaxRateInput!) { setTaxRate(input: $input) { taxRate { ${RATE_FIELDS} } ${ERRORS} } }`;
const DELETE = `mutation ($input: DeleteTaxRateInput!) { deleteTaxRate(input: $input) { deleted ${ERRORS} } }`;

interface UserErrorShape {
  field: string[] | null;
  code: string;
  message: string;
}
interface RateShape {
  id: string;
  countryCode: string;
  categoryId: string | null;
  name: string;
  ratePercent: number;
}

const errorsOf = (payload: { userErrors: UserErrorShape[] }) =>
  payload.userErrors.map((error) => [error.code, error.field]);

async function setRate(input: Record<string, unknown>) {
  return (
    await data<{ setTaxRate: { taxRate: RateShape | null; userErrors: UserErrorShape[] } }>(
      SET,
      { input },
      staff,
    )
  ).setTaxRate;
}
async function rate(input: Record<string, unknown>): Promise<RateShape> {
  const set = await setRate(input);
  expect(set.userErrors).toEqual([]);
  if (!set.taxRate) throw new Error("no rate");
  return set.taxRate;
}
async function rates(countryCode?: string) {
  return (
    await data<{ taxRates: RateShape[] }>(RATES, countryCode === undefined ? {} : { countryCode }, staff)
  ).taxRates;
}
async function deleteRate(id: string) {
  return (
    await data<{ deleteTaxRate: { deleted: boolean; userErrors: UserErrorShape[] } }>(
      DELETE,
      { input: { id } },
      staff,
    )
  ).deleteTaxRate;
}
const rowCount = async () => (await env.pg.db.selectFrom("tax_rates").select("id").execute()).length;

beforeEach(async () => {
  await env.pg.db.deleteFrom("tax_rates").execute();
});

describe("setTaxRate", () => {
  it("sets a country's standard rate and a category's, normalizing what it is given", async () => {
    const standard = await setRate({ countryCode: " gb ", name: "  VAT ", ratePercent: 20 });
    expect(standard).toEqual({
      taxRate: { id: expect.any(String), countryCode: "GB", categoryId: null, name: "VAT", ratePercent: 20 },
      userErrors: [],
    });
    const category = await rate({
      countryCode: "GB",
      categoryId: ` ${CLOTHING.toUpperCase()} `,
      name: "Children's clothing",
      ratePercent: 0,
    });
    expect(category).toMatchObject({ categoryId: CLOTHING, ratePercent: 0 });
    const odd = await rate({ countryCode: "US", categoryId: "books", name: "Sales tax", ratePercent: 8.875 });
    expect(odd).toMatchObject({ categoryId: "books", ratePercent: 8.875 });
    const row = await env.pg.db
      .selectFrom("tax_rates")
      .select("rate_ppm")
      .where("id", "=", odd.id)
      .executeTakeFirstOrThrow();
    expect(row.rate_ppm).toBe(88_750);
  });

  it("replaces the rate set before for the same country and category, keeping its id", async () => {
    const first = await rate({ countryCode: "DE", name: "MwSt", ratePercent: 19 });
    const food = await rate({ countryCode: "DE", categoryId: ELECTRONICS, name: "MwSt", ratePercent: 7 });
    const replaced = await rate({ countryCode: "de", name: "Mehrwertsteuer", ratePercent: 16 });
    expect(replaced).toEqual({ ...first, name: "Mehrwertsteuer", ratePercent: 16 });
    const replacedFood = await rate({
      countryCode: "DE",
      categoryId: ELECTRONICS,
      name: "MwSt",
      ratePercent: 5,
    });
    expect(replacedFood.id).toBe(food.id);
    expect(await rates("DE")).toEqual([replaced, replacedFood]);
  });

  it("takes concurrent sets of one country and category without an error, one row remaining", async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        i % 2
          ? setRate({ countryCode: "FR", name: `TVA ${i}`, ratePercent: i })
          : upsertTaxRate(env.pg.db, {
              id: randomUUID(),
              country_code: "FR",
              category_id: null,
              name: `TVA ${i}`,
              rate_ppm: i * 10_000,
            }).then(() => ({ taxRate: null, userErrors: [] })),
      ),
    );
    expect(results.flatMap((result) => result.userErrors)).toEqual([]);
    const [only, ...none] = await rates("FR");
    expect(none).toEqual([]);
    expect(only?.name).toMatch(/^TVA \d+$/);
    expect(only?.ratePercent).toBe(Number(only?.name.slice(4)));

    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        rate({ countryCode: "FR", categoryId: CLOTHING, name: "TVA", ratePercent: 5 + i }),
      ),
    );
    expect(await rowCount()).toBe(2);
  });

  it("refuses every invalid field at once with INVALID_COUNTRY, INVALID_CATEGORY_ID, INVALID_NAME and INVALID_RATE", async () => {
    const refused = await setRate({ countryCode: "UK", categoryId: "   ", name: " ", ratePercent: 100.5 });
    expect(refused.taxRate).toBeNull();
    expect(errorsOf(refused)).toEqual([
      ["INVALID_COUNTRY", ["input", "countryCode"]],
      ["INVALID_CATEGORY_ID", ["input", "categoryId"]],
      ["INVALID_NAME", ["input", "name"]],
      ["INVALID_RATE", ["input", "ratePercent"]],
    ]);
    const cases: [Record<string, unknown>, string][] = [
      [{ countryCode: "GBR" }, "INVALID_COUNTRY"],
      [{ countryCode: "" }, "INVALID_COUNTRY"],
      [{ categoryId: "c".repeat(101) }, "INVALID_CATEGORY_ID"],
      [{ categoryId: "" }, "INVALID_CATEGORY_ID"],
      [{ name: "n".repeat(101) }, "INVALID_NAME"],
      [{ ratePercent: -0.0001 }, "INVALID_RATE"],
      [{ ratePercent: 100.0001 }, "INVALID_RATE"],
      [{ ratePercent: 8.87501 }, "INVALID_RATE"],
      [{ ratePercent: 1e300 }, "INVALID_RATE"],
    ];
    for (const [input, code] of cases) {
      const result = await setRate({ countryCode: "GB", name: "VAT", ratePercent: 20, ...input });
      expect(result.userErrors.map((error) => error.code)).toEqual([code]);
    }
    expect(await rowCount()).toBe(0);
    // The bounds are fine.
    for (const ratePercent of [0, 100, 0.0001, 19.9999, 8.875]) {
      expect((await rate({ countryCode: "GB", name: "VAT", ratePercent })).ratePercent).toBe(ratePercent);
    }
    expect(
      (await rate({ countryCode: "GB", categoryId: "c".repeat(100), name: "n".repeat(100), ratePercent: 1 }))
        .name,
    ).toHaveLength(100);
  });

  it("converts percent to parts per million only when it is exact to four decimals", () => {
    expect(percentToPpm(20)).toBe(200_000);
    expect(percentToPpm(8.875)).toBe(88_750);
    expect(percentToPpm(0.0001)).toBe(1);
    expect(percentToPpm(33.3333)).toBe(333_333);
    expect(percentToPpm(33.33333)).toBeNull();
    expect(percentToPpm(Number.NaN)).toBeNull();
    expect(percentToPpm(Number.POSITIVE_INFINITY)).toBeNull();
    expect(percentToPpm(-1)).toBeNull();
    expect(percentToPpm(100.0001)).toBeNull();
  });
});

describe("taxRates and deleteTaxRate", () => {
  it("lists rates by country, the standard rate first, then by category; one country's when asked", async () => {
    const gbClothing = await rate({ countryCode: "GB", categoryId: CLOTHING, name: "VAT", ratePercent: 0 });
    const us = await rate({ countryCode: "US", name: "Sales tax", ratePercent: 7.25 });
    const gbElectronics = await rate({
      countryCode: "GB",
      categoryId: ELECTRONICS,
      name: "VAT",
      ratePercent: 5,
    });
    const gb = await rate({ countryCode: "GB", name: "VAT", ratePercent: 20 });
    const de = await rate({ countryCode: "DE", name: "MwSt", ratePercent: 19 });
    expect(await rates()).toEqual([de, gb, gbElectronics, gbClothing, us].sort(byCountryThenCategory));
    expect((await rates()).map((r) => [r.countryCode, r.categoryId])).toEqual([
      ["DE", null],
      ["GB", null],
      // ELECTRONICS (…001) sorts before CLOTHING (…002).
      ["GB", ELECTRONICS],
      ["GB", CLOTHING],
      ["US", null],
    ]);
    expect(await rates("gb")).toEqual([gb, gbElectronics, gbClothing]);
    expect(await rates("JP")).toEqual([]);
  });

  it("answers a malformed country code with BAD_USER_INPUT", async () => {
    for (const countryCode of ["GBR", "", "XX", "1"]) {
      const refused = await run(RATES, { countryCode }, staff);
      expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    }
  });

  it("deletes a rate; an unknown or malformed id is TAX_RATE_NOT_FOUND", async () => {
    const gb = await rate({ countryCode: "GB", name: "VAT", ratePercent: 20 });
    const clothing = await rate({ countryCode: "GB", categoryId: CLOTHING, name: "VAT", ratePercent: 0 });
    expect(await deleteRate(gb.id.toUpperCase())).toEqual({ deleted: true, userErrors: [] });
    expect(await rates()).toEqual([clothing]);
    expect(await deleteRate(gb.id)).toEqual({
      deleted: false,
      userErrors: [{ code: "TAX_RATE_NOT_FOUND", field: ["input", "id"], message: expect.any(String) }],
    });
    expect(errorsOf(await deleteRate("vat"))).toEqual([["TAX_RATE_NOT_FOUND", ["input", "id"]]]);
    // Set again, it is a new rate.
    expect((await rate({ countryCode: "GB", name: "VAT", ratePercent: 20 })).id).not.toBe(gb.id);
  });

  it("refuses customers every tax field (FORBIDDEN) and visitors (UNAUTHENTICATED)", async () => {
    const gb = await rate({ countryCode: "GB", name: "VAT", ratePercent: 20 });
    const operations: [string, Record<string, unknown>][] = [
      [RATES, {}],
      [RATES, { countryCode: "GB" }],
      [SET, { input: { countryCode: "GB", name: "VAT", ratePercent: 0 } }],
      [DELETE, { input: { id: gb.id } }],
    ];
    for (const [query, variables] of operations) {
      expect((await run(query, variables, customer)).errors?.map((e) => e.extensions?.code)).toEqual([
        "FORBIDDEN",
      ]);
      expect((await run(query, variables)).errors?.map((e) => e.extensions?.code)).toEqual([
        "UNAUTHENTICATED",
      ]);
    }
    expect(await rates()).toEqual([gb]);
  });
});

describe("findTaxRatesForCountry", () => {
  it("reads a country's rates for pricing: the standard one first, then by category", async () => {
    await rate({
      countryCode: "GB",
      categoryId: CLOTHING,
      name: "VAT (children's clothing)",
      ratePercent: 0,
    });
    await rate({ countryCode: "GB", name: "VAT", ratePercent: 20 });
    await rate({ countryCode: "US", name: "Sales tax", ratePercent: 8.875 });
    expect(await findTaxRatesForCountry(env.pg.db, "gb")).toEqual([
      { categoryId: null, name: "VAT", ratePpm: 200_000 },
      { categoryId: CLOTHING, name: "VAT (children's clothing)", ratePpm: 0 },
    ]);
    expect(await findTaxRatesForCountry(env.pg.db, "US")).toEqual([
      { categoryId: null, name: "Sales tax", ratePpm: 88_750 },
    ]);
    expect(await findTaxRatesForCountry(env.pg.db, "JP")).toEqual([]);
  });
});

function byCountryThenCategory(a: RateShape, b: RateShape): number {
  if (a.countryCode !== b.countryCode) return a.countryCode < b.countryCode ? -1 : 1;
  if (a.categoryId === null || b.categoryId === null) return a.categoryId === null ? -1 : 1;
  return a.categoryId < b.categoryId ? -1 : a.categoryId > b.categoryId ? 1 : 0;
}
