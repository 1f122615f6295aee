import { randomUUID } from "node:crypto";
import { until } from "@nexus/testing";
import { sql } from "kysely";
import { beforeEach, describe, expect, it } from "vitest";
import { createTestOperations, useTestEnv } from "../test-env.ts";
import { findShippingMethodsForCountry, shipsAnywhere } from "./shipping.repository.ts";

const env = useTestEnv("orders");
const { A, ADMIN } = env;
const { run, data } = createTestOperations(env);

const staff = { as: { id: ADMIN, role: "ADMIN" as const } };
const customer = { as: { id: A } };

const METHOD_FIELDS = `id name rateType active amount { amount currencyCode }
  bands { minSubtotal { amount currencyCode } amount { amount currencyCode } } freeAbove { amount currencyCode }`;
const ZONE_FIELDS = `id name countries methods { ${METHOD_FIELDS} }`;
const ERRORS = "userErrors { field code message }";

const ZONES = `query { shippingZones { ${ZONE_FIELDS} } }`;
const CREATE_ZONE = `mutation ($input: CreateShippingZoneInput!) {
  createShippingZone(input: $input) { zone { ${ZONE_FIELDS} } ${ERRORS} } }`;
const UPDATE_ZONE = `mutation ($input: UpdateShippingZoneInput!) {
  updateShippingZone(input: $input) { zone { ${ZONE_FIELDS} } ${ERRORS} } }`;
const DELETE_ZONE = `mutation ($input: DeleteShippingZoneInput!) {
  deleteShippingZone(input: $input) { deleted ${ERRORS} } }`;
const CREATE_METHOD = `mutation ($input: CreateShippingMethodInput!) {
  createShippingMethod(input: $input) { method { ${METHOD_FIELDS} } ${ERRORS} } }`;
const UPDATE_METHOD = `mutation ($input: UpdateShippingMethodInput!) {
  updateShippingMethod(input: $input) { method { ${METHOD_FIELDS} } ${ERRORS} } }`;
const DELETE_METHOD = `mutation ($input: DeleteShippingMethodInput!) {
  deleteShippingMethod(input: $input) { deleted ${ERRORS} } }`;

interface UserErrorShape {
  field: string[] | null;
  code: string;
  message: string;
}
interface Money {
  amount: number;
  currencyCode: string;
}
interface MethodShape {
  id: string;
  name: string;
  rateType: "FLAT" | "SUBTOTAL_BANDS";
  active: boolean;
  amount: Money | null;
  bands: { minSubtotal: Money; amount: Money }[];
  freeAbove: Money | null;
}
interface ZoneShape {
  id: string;
  name: string;
  countries: string[];
  methods: MethodShape[];
}

const usd = (amount: number) => ({ amount, currencyCode: "USD" });
const errorsOf = (payload: { userErrors: UserErrorShape[] }) =>
  payload.userErrors.map((error) => [error.code, error.field]);

async function createZone(input: Record<string, unknown>) {
  return (
    await data<{ createShippingZone: { zone: ZoneShape | null; userErrors: UserErrorShape[] } }>(
      CREATE_ZONE,
      { input },
      staff,
    )
  ).createShippingZone;
}
async function updateZone(input: Record<string, unknown>) {
  return (
    await data<{ updateShippingZone: { zone: ZoneShape | null; userErrors: UserErrorShape[] } }>(
      UPDATE_ZONE,
      { input },
      staff,
    )
  ).updateShippingZone;
}
async function deleteZone(id: string) {
  return (
    await data<{ deleteShippingZone: { deleted: boolean; userErrors: UserErrorShape[] } }>(
      DELETE_ZONE,
      { input: { id } },
      staff,
    )
  ).deleteShippingZone;
}
async function createMethod(input: Record<string, unknown>) {
  return (
    await data<{ createShippingMethod: { method: MethodShape | null; userErrors: UserErrorShape[] } }>(
      CREATE_METHOD,
      { input },
      staff,
    )
  ).createShippingMethod;
}
async function updateMethod(input: Record<string, unknown>) {
  return (
    await data<{ updateShippingMethod: { method: MethodShape | null; userErrors: UserErrorShape[] } }>(
      UPDATE_METHOD,
      { input },
      staff,
    )
  ).updateShippingMethod;
}
async function deleteMethod(id: string) {
  return (
    await data<{ deleteShippingMethod: { deleted: boolean; userErrors: UserErrorShape[] } }>(
      DELETE_METHOD,
      { input: { id } },
      staff,
    )
  ).deleteShippingMethod;
}
const zones = async () => (await data<{ shippingZones: ZoneShape[] }>(ZONES, {}, staff)).shippingZones;

/** A zone that must be created, and its id. */
async function zone(name: string, countries: string[]): Promise<string> {
  const created = await createZone({ name, countries });
  expect(created.userErrors).toEqual([]);
  return created.zone?.id ?? "";
}
/** A method that must be created, and its id. */
async function method(zoneId: string, input: Record<string, unknown> = {}): Promise<string> {
  const created = await createMethod({ zoneId, name: "Standard", rateType: "FLAT", amount: 500, ...input });
  expect(created.userErrors).toEqual([]);
  return created.method?.id ?? "";
}

const BANDS = [
  { minSubtotal: 0, amount: 900 },
  { minSubtotal: 5000, amount: 500 },
  { minSubtotal: 10_000, amount: 0 },
];

beforeEach(async () => {
  await env.pg.db.deleteFrom("shipping_zones").execute();
});

describe("shipping zones", () => {
  it("creates a zone with its name trimmed and its countries upper-cased, deduplicated and sorted", async () => {
    const created = await createZone({ name: "  Europe  ", countries: ["fr", " de ", "FR", "at"] });
    expect(created.userErrors).toEqual([]);
    expect(created.zone).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: "Europe",
      countries: ["AT", "DE", "FR"],
      methods: [],
    });
    expect(await zones()).toEqual([created.zone]);
  });

  it("lists every zone oldest first with its methods, switched-off ones included, oldest first", async () => {
    const europe = await zone("Europe", ["FR", "DE"]);
    const home = await zone("Home", ["US"]);
    const standard = await method(europe, { name: "Standard" });
    const express = await method(europe, { name: "Express", amount: 1500 });
    await updateMethod({ id: express, active: false });
    const listed = await zones();
    expect(listed.map((z) => [z.name, z.id, z.countries])).toEqual([
      ["Europe", europe, ["DE", "FR"]],
      ["Home", home, ["US"]],
    ]);
    expect(listed[0]?.methods.map((m) => [m.id, m.name, m.active])).toEqual([
      [standard, "Standard", true],
      [express, "Express", false],
    ]);
    expect(listed[1]?.methods).toEqual([]);
  });

  it("reads every zone's methods in one query, whatever the number of zones", async () => {
    for (const [i, country] of ["FR", "DE", "IT", "ES", "PT"].entries()) {
      const id = await zone(`Zone ${i}`, [country]);
      await method(id);
      await method(id, { name: "Express" });
    }
    env.pg.queries.length = 0;
    const listed = await zones();
    expect(listed).toHaveLength(5);
    expect(listed.every((z) => z.methods.length === 2)).toBe(true);
    expect(env.pg.queries).toHaveLength(2);
    expect(env.pg.queries[0]).toMatch(/from "shipping_zones"/);
    expect(env.pg.queries[1]).toMatch(/from "shipping_methods" where "zone_id" in/);
  });

  it("refuses every invalid field at once with INVALID_NAME and INVALID_COUNTRY, and writes nothing", async () => {
    const refused = await createZone({ name: "   ", countries: ["gb", "XX", "GBR", "UK", "1"] });
    expect(refused.zone).toBeNull();
    expect(errorsOf(refused)).toEqual([
      ["INVALID_NAME", ["input", "name"]],
      ["INVALID_COUNTRY", ["input", "countries", "1"]],
      ["INVALID_COUNTRY", ["input", "countries", "2"]],
      ["INVALID_COUNTRY", ["input", "countries", "3"]],
      ["INVALID_COUNTRY", ["input", "countries", "4"]],
    ]);
    expect(errorsOf(await createZone({ name: "x".repeat(101), countries: [] }))).toEqual([
      ["INVALID_NAME", ["input", "name"]],
      ["INVALID_COUNTRY", ["input", "countries"]],
    ]);
    expect(errorsOf(await createZone({ name: "Many", countries: Array(251).fill("FR") }))).toEqual([
      ["INVALID_COUNTRY", ["input", "countries"]],
    ]);
    expect(await zones()).toEqual([]);
    // The bounds themselves are fine: 100 characters, 250 entries.
    const long = await createZone({ name: "é".repeat(100), countries: Array(250).fill("fr") });
    expect(long.userErrors).toEqual([]);
    expect(long.zone?.countries).toEqual(["FR"]);
  });

  it("refuses a country another zone ships to with COUNTRY_IN_ANOTHER_ZONE naming it and the zone", async () => {
    const europe = await zone("Europe", ["FR", "DE"]);
    const refused = await createZone({ name: "", countries: ["IT", "de", "FR"] });
    expect(refused.zone).toBeNull();
    expect(errorsOf(refused)).toEqual([
      ["INVALID_NAME", ["input", "name"]],
      ["COUNTRY_IN_ANOTHER_ZONE", ["input", "countries", "1"]],
      ["COUNTRY_IN_ANOTHER_ZONE", ["input", "countries", "2"]],
    ]);
    expect(refused.userErrors[1]?.message).toContain("DE");
    expect(refused.userErrors[1]?.message).toContain('"Europe"');
    expect(refused.userErrors[1]?.message).toContain(europe);
    expect((await zones()).map((z) => z.name)).toEqual(["Europe"]);
  });

  it("gives a country to one zone only when zones are created at once, the others naming the winner", async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        createZone({ name: `Zone ${i}`, countries: [`FR`, i % 2 ? "DE" : "IT"] }),
      ),
    );
    const won = results.filter((result) => result.zone !== null);
    expect(won).toHaveLength(1);
    const winner = won[0]?.zone;
    for (const lost of results.filter((result) => result.zone === null)) {
      expect(lost.userErrors.map((e) => e.code)).toContain("COUNTRY_IN_ANOTHER_ZONE");
      expect(lost.userErrors.every((e) => e.code === "COUNTRY_IN_ANOTHER_ZONE")).toBe(true);
      expect(lost.userErrors[0]?.message).toContain(winner?.id);
    }
    expect((await zones()).map((z) => z.id)).toEqual([winner?.id]);
  });

  it("answers COUNTRY_IN_ANOTHER_ZONE when a country's row goes in first by another way (a unique violation)", async () => {
    const other = randomUUID();
    let pending: ReturnType<typeof createZone> | undefined;
    await env.pg.db.transaction().execute(async (trx) => {
      await trx.insertInto("shipping_zones").values({ id: other, name: "Imported" }).execute();
      await trx
        .insertInto("shipping_zone_countries")
        .values({ country_code: "FR", zone_id: other })
        .execute();
      // The mutation cannot see FR yet, so it inserts it and waits on this transaction's row.
      pending = createZone({ name: "Europe", countries: ["DE", "FR"] });
      await until("the zone's insert to wait on the uncommitted country", async () => {
        const { rows } = await sql<{ waiting: number }>`SELECT count(*)::int AS waiting FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(env.pg.db);
        return (rows[0]?.waiting ?? 0) > 0;
      });
    });
    const refused = await pending;
    expect(refused?.zone).toBeNull();
    expect(refused && errorsOf(refused)).toEqual([["COUNTRY_IN_ANOTHER_ZONE", ["input", "countries", "1"]]]);
    expect(refused?.userErrors[0]?.message).toContain(other);
    expect((await zones()).map((z) => [z.name, z.countries])).toEqual([["Imported", ["FR"]]]);
  });

  it("renames a zone and replaces its countries, keeping its own and refusing another zone's", async () => {
    const europe = await zone("Europe", ["FR", "DE"]);
    await zone("Nordics", ["SE", "NO"]);
    const updated = await updateZone({ id: europe, name: " EU ", countries: ["de", "it", "AT"] });
    expect(updated.userErrors).toEqual([]);
    expect(updated.zone).toMatchObject({ id: europe, name: "EU", countries: ["AT", "DE", "IT"] });
    // FR is free again.
    await zone("France", ["FR"]);

    const renamed = await updateZone({ id: europe, name: "Europe" });
    expect(renamed.zone).toMatchObject({ name: "Europe", countries: ["AT", "DE", "IT"] });
    const unchanged = await updateZone({ id: europe });
    expect(unchanged.zone).toMatchObject({ name: "Europe", countries: ["AT", "DE", "IT"] });

    const refused = await updateZone({ id: europe, name: "", countries: ["AT", "SE", "zz"] });
    expect(errorsOf(refused)).toEqual([
      ["INVALID_NAME", ["input", "name"]],
      ["INVALID_COUNTRY", ["input", "countries", "2"]],
      ["COUNTRY_IN_ANOTHER_ZONE", ["input", "countries", "1"]],
    ]);
    expect(refused.userErrors[2]?.message).toContain('"Nordics"');
    expect(errorsOf(await updateZone({ id: europe, countries: [] }))).toEqual([
      ["INVALID_COUNTRY", ["input", "countries"]],
    ]);
    expect((await zones()).find((z) => z.id === europe)).toMatchObject({
      name: "Europe",
      countries: ["AT", "DE", "IT"],
    });
  });

  it("refuses an unknown or malformed zone id with SHIPPING_ZONE_NOT_FOUND, with the other errors", async () => {
    expect(errorsOf(await updateZone({ id: randomUUID(), name: "Europe" }))).toEqual([
      ["SHIPPING_ZONE_NOT_FOUND", ["input", "id"]],
    ]);
    expect(errorsOf(await updateZone({ id: "not-a-uuid", name: " ", countries: ["XX"] }))).toEqual([
      ["SHIPPING_ZONE_NOT_FOUND", ["input", "id"]],
      ["INVALID_NAME", ["input", "name"]],
      ["INVALID_COUNTRY", ["input", "countries", "0"]],
    ]);
    expect(await deleteZone(randomUUID())).toEqual({
      deleted: false,
      userErrors: [{ code: "SHIPPING_ZONE_NOT_FOUND", field: ["input", "id"], message: expect.any(String) }],
    });
    expect(errorsOf(await deleteZone("42"))).toEqual([["SHIPPING_ZONE_NOT_FOUND", ["input", "id"]]]);
  });

  it("deletes a zone with its methods and frees its countries", async () => {
    const europe = await zone("Europe", ["FR", "DE"]);
    const standard = await method(europe);
    expect(await deleteZone(europe.toUpperCase())).toEqual({ deleted: true, userErrors: [] });
    expect(await zones()).toEqual([]);
    expect(await env.pg.db.selectFrom("shipping_methods").selectAll().execute()).toEqual([]);
    expect(errorsOf(await deleteMethod(standard))).toEqual([["SHIPPING_METHOD_NOT_FOUND", ["input", "id"]]]);
    await zone("France", ["FR"]);
    expect(errorsOf(await deleteZone(europe))).toEqual([["SHIPPING_ZONE_NOT_FOUND", ["input", "id"]]]);
  });
});

describe("shipping methods", () => {
  it("adds FLAT and SUBTOTAL_BANDS methods, active, with Money in the store currency", async () => {
    const europe = await zone("Europe", ["FR"]);
    const flat = await createMethod({ zoneId: europe, name: " Standard ", rateType: "FLAT", amount: 0 });
    expect(flat).toEqual({
      method: {
        id: expect.any(String),
        name: "Standard",
        rateType: "FLAT",
        active: true,
        amount: usd(0),
        bands: [],
        freeAbove: null,
      },
      userErrors: [],
    });
    const banded = await createMethod({
      zoneId: europe,
      name: "Economy",
      rateType: "SUBTOTAL_BANDS",
      bands: BANDS,
      freeAbove: 20_000,
    });
    expect(banded.userErrors).toEqual([]);
    expect(banded.method).toMatchObject({
      rateType: "SUBTOTAL_BANDS",
      amount: null,
      bands: BANDS.map((band) => ({ minSubtotal: usd(band.minSubtotal), amount: usd(band.amount) })),
      freeAbove: usd(20_000),
    });
    // FLAT with an empty list of bands is a FLAT rate with no bands.
    const emptyBands = await createMethod({
      zoneId: europe,
      name: "Max",
      rateType: "FLAT",
      amount: 2_147_483_647,
      bands: [],
    });
    expect(emptyBands.userErrors).toEqual([]);
    expect((await zones())[0]?.methods.map((m) => m.name)).toEqual(["Standard", "Economy", "Max"]);
  });

  it("refuses a rate of the wrong shape with INVALID_RATE", async () => {
    const europe = await zone("Europe", ["FR"]);
    const base = { zoneId: europe, name: "Standard" };
    const cases: [Record<string, unknown>, [string, string[]][]][] = [
      [{ rateType: "FLAT" }, [["INVALID_RATE", ["input", "amount"]]]],
      [{ rateType: "FLAT", amount: 500, bands: BANDS }, [["INVALID_RATE", ["input", "bands"]]]],
      [{ rateType: "SUBTOTAL_BANDS" }, [["INVALID_RATE", ["input", "bands"]]]],
      [{ rateType: "SUBTOTAL_BANDS", bands: [] }, [["INVALID_RATE", ["input", "bands"]]]],
      [{ rateType: "SUBTOTAL_BANDS", amount: 500, bands: BANDS }, [["INVALID_RATE", ["input", "amount"]]]],
      [
        {
          rateType: "SUBTOTAL_BANDS",
          bands: Array.from({ length: 21 }, (_, i) => ({ minSubtotal: i * 100, amount: 100 })),
        },
        [["INVALID_RATE", ["input", "bands"]]],
      ],
      [
        { rateType: "SUBTOTAL_BANDS", bands: [{ minSubtotal: 100, amount: 500 }] },
        [["INVALID_RATE", ["input", "bands", "0", "minSubtotal"]]],
      ],
      [
        {
          rateType: "SUBTOTAL_BANDS",
          bands: [
            { minSubtotal: 0, amount: 900 },
            { minSubtotal: 5000, amount: 500 },
            { minSubtotal: 5000, amount: 400 },
            { minSubtotal: 4000, amount: 300 },
            { minSubtotal: -1, amount: 300 },
          ],
        },
        [
          ["INVALID_RATE", ["input", "bands", "2", "minSubtotal"]],
          ["INVALID_RATE", ["input", "bands", "3", "minSubtotal"]],
          ["INVALID_RATE", ["input", "bands", "4", "minSubtotal"]],
        ],
      ],
    ];
    for (const [input, expected] of cases) {
      const refused = await createMethod({ ...base, ...input });
      expect(refused.method).toBeNull();
      expect(errorsOf(refused)).toEqual(expected);
    }
    // 20 bands are fine.
    const twenty = await createMethod({
      ...base,
      rateType: "SUBTOTAL_BANDS",
      bands: Array.from({ length: 20 }, (_, i) => ({ minSubtotal: i * 100, amount: 100 })),
    });
    expect(twenty.userErrors).toEqual([]);
    expect(await env.pg.db.selectFrom("shipping_methods").select("name").execute()).toHaveLength(1);
  });

  it("refuses negative amounts with INVALID_AMOUNT, and an unknown zone with SHIPPING_ZONE_NOT_FOUND, all at once", async () => {
    const europe = await zone("Europe", ["FR"]);
    expect(
      errorsOf(
        await createMethod({ zoneId: europe, name: "Standard", rateType: "FLAT", amount: -1, freeAbove: -5 }),
      ),
    ).toEqual([
      ["INVALID_AMOUNT", ["input", "amount"]],
      ["INVALID_AMOUNT", ["input", "freeAbove"]],
    ]);
    expect(
      errorsOf(
        await createMethod({
          zoneId: europe,
          name: "Banded",
          rateType: "SUBTOTAL_BANDS",
          bands: [
            { minSubtotal: 0, amount: 100 },
            { minSubtotal: 10, amount: -100 },
          ],
        }),
      ),
    ).toEqual([["INVALID_AMOUNT", ["input", "bands", "1", "amount"]]]);
    expect(
      errorsOf(await createMethod({ zoneId: randomUUID(), name: "", rateType: "FLAT", amount: -1 })),
    ).toEqual([
      ["SHIPPING_ZONE_NOT_FOUND", ["input", "zoneId"]],
      ["INVALID_NAME", ["input", "name"]],
      ["INVALID_AMOUNT", ["input", "amount"]],
    ]);
    expect(
      errorsOf(await createMethod({ zoneId: "europe", name: "Standard", rateType: "FLAT", amount: 1 })),
    ).toEqual([["SHIPPING_ZONE_NOT_FOUND", ["input", "zoneId"]]]);
    expect(await env.pg.db.selectFrom("shipping_methods").selectAll().execute()).toEqual([]);
  });

  it("changes a method; rateType, amount and bands change together and are validated as a whole", async () => {
    const europe = await zone("Europe", ["FR"]);
    const id = await method(europe, { name: "Standard", amount: 500, freeAbove: 10_000 });

    // A field left out stays as it is.
    const renamed = await updateMethod({ id, name: " Regular " });
    expect(renamed.method).toMatchObject({
      name: "Regular",
      rateType: "FLAT",
      amount: usd(500),
      freeAbove: usd(10_000),
    });
    // The same rate type with a new amount.
    expect((await updateMethod({ id, amount: 700 })).method).toMatchObject({ amount: usd(700) });
    // To bands: the rate type and its bands, and the amount is gone.
    const banded = await updateMethod({ id, rateType: "SUBTOTAL_BANDS", bands: BANDS });
    expect(banded.userErrors).toEqual([]);
    expect(banded.method).toMatchObject({
      rateType: "SUBTOTAL_BANDS",
      amount: null,
      bands: expect.any(Array),
    });
    expect(banded.method?.bands).toHaveLength(3);
    // An amount alone does not fit a SUBTOTAL_BANDS rate; a rate type alone lacks what it needs.
    expect(errorsOf(await updateMethod({ id, amount: 300 }))).toEqual([
      ["INVALID_RATE", ["input", "amount"]],
      ["INVALID_RATE", ["input", "bands"]],
    ]);
    expect(errorsOf(await updateMethod({ id, rateType: "FLAT" }))).toEqual([
      ["INVALID_RATE", ["input", "amount"]],
    ]);
    expect(errorsOf(await updateMethod({ id, rateType: "FLAT", amount: 300, bands: BANDS }))).toEqual([
      ["INVALID_RATE", ["input", "bands"]],
    ]);
    // New bands alone keep the SUBTOTAL_BANDS rate type.
    const rebanded = await updateMethod({ id, bands: [{ minSubtotal: 0, amount: 100 }] });
    expect(rebanded.method?.bands).toEqual([{ minSubtotal: usd(0), amount: usd(100) }]);
    // Back to FLAT.
    const flat = await updateMethod({ id, rateType: "FLAT", amount: 450 });
    expect(flat.method).toMatchObject({ rateType: "FLAT", amount: usd(450), bands: [] });

    // freeAbove: absent keeps it, null clears it.
    expect((await updateMethod({ id, active: false })).method).toMatchObject({
      active: false,
      freeAbove: usd(10_000),
    });
    expect((await updateMethod({ id, freeAbove: null })).method).toMatchObject({
      active: false,
      freeAbove: null,
    });
    expect((await updateMethod({ id, freeAbove: 0, active: true })).method).toMatchObject({
      active: true,
      freeAbove: usd(0),
    });
  });

  it("refuses an update with every error at once and changes nothing", async () => {
    const europe = await zone("Europe", ["FR"]);
    const id = await method(europe, { name: "Standard", amount: 500 });
    expect(
      errorsOf(
        await updateMethod({
          id,
          name: "x".repeat(101),
          rateType: "SUBTOTAL_BANDS",
          bands: [{ minSubtotal: 0, amount: -1 }],
          freeAbove: -1,
          active: false,
        }),
      ),
    ).toEqual([
      ["INVALID_NAME", ["input", "name"]],
      ["INVALID_AMOUNT", ["input", "bands", "0", "amount"]],
      ["INVALID_AMOUNT", ["input", "freeAbove"]],
    ]);
    expect(errorsOf(await updateMethod({ id, rateType: "FLAT", amount: -2 }))).toEqual([
      ["INVALID_AMOUNT", ["input", "amount"]],
    ]);
    expect(errorsOf(await updateMethod({ id: randomUUID(), name: "", amount: -1 }))).toEqual([
      ["SHIPPING_METHOD_NOT_FOUND", ["input", "id"]],
      ["INVALID_NAME", ["input", "name"]],
      ["INVALID_AMOUNT", ["input", "amount"]],
    ]);
    expect(errorsOf(await updateMethod({ id: "nope", active: true }))).toEqual([
      ["SHIPPING_METHOD_NOT_FOUND", ["input", "id"]],
    ]);
    expect((await zones())[0]?.methods).toEqual([
      { id, name: "Standard", rateType: "FLAT", active: true, amount: usd(500), bands: [], freeAbove: null },
    ]);
  });

  it("deletes a method; an unknown or malformed id is SHIPPING_METHOD_NOT_FOUND", async () => {
    const europe = await zone("Europe", ["FR"]);
    const standard = await method(europe, { name: "Standard" });
    const express = await method(europe, { name: "Express" });
    expect(await deleteMethod(standard)).toEqual({ deleted: true, userErrors: [] });
    expect((await zones())[0]?.methods.map((m) => m.id)).toEqual([express]);
    expect(errorsOf(await deleteMethod(standard))).toEqual([["SHIPPING_METHOD_NOT_FOUND", ["input", "id"]]]);
    expect(await deleteMethod("x")).toEqual({
      deleted: false,
      userErrors: [
        { code: "SHIPPING_METHOD_NOT_FOUND", field: ["input", "id"], message: expect.any(String) },
      ],
    });
  });
});

describe("access", () => {
  it("refuses customers every shipping field (FORBIDDEN) and visitors (UNAUTHENTICATED)", async () => {
    const europe = await zone("Europe", ["FR"]);
    const id = await method(europe);
    const operations: [string, Record<string, unknown>][] = [
      [ZONES, {}],
      [CREATE_ZONE, { input: { name: "Home", countries: ["US"] } }],
      [UPDATE_ZONE, { input: { id: europe, name: "Mine" } }],
      [DELETE_ZONE, { input: { id: europe } }],
      [CREATE_METHOD, { input: { zoneId: europe, name: "Free", rateType: "FLAT", amount: 0 } }],
      [UPDATE_METHOD, { input: { id, amount: 0 } }],
      [DELETE_METHOD, { input: { id } }],
    ];
    for (const [query, variables] of operations) {
      const refused = await run(query, variables, customer);
      expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
      const anonymous = await run(query, variables);
      expect(anonymous.errors?.map((e) => e.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
    }
    expect(await zones()).toEqual([
      {
        id: europe,
        name: "Europe",
        countries: ["FR"],
        methods: [expect.objectContaining({ id, amount: usd(500) })],
      },
    ]);
  });
});

describe("readers for pricing", () => {
  it("findShippingMethodsForCountry: the active methods of the country's zone, oldest first, with its name", async () => {
    const europe = await zone("Europe", ["FR", "DE"]);
    const home = await zone("Home", ["US"]);
    const standard = await method(europe, { name: "Standard", amount: 500, freeAbove: 10_000 });
    const off = await method(europe, { name: "Courier" });
    await updateMethod({ id: off, active: false });
    const banded = await method(europe, {
      name: "Economy",
      rateType: "SUBTOTAL_BANDS",
      amount: null,
      bands: BANDS,
    });
    await method(home, { name: "Domestic" });

    expect(await findShippingMethodsForCountry(env.pg.db, "fr")).toEqual([
      {
        id: standard,
        name: "Standard",
        zoneName: "Europe",
        rateType: "FLAT",
        amount: 500,
        bands: [],
        freeAbove: 10_000,
      },
      {
        id: banded,
        name: "Economy",
        zoneName: "Europe",
        rateType: "SUBTOTAL_BANDS",
        amount: null,
        bands: BANDS,
        freeAbove: null,
      },
    ]);
    expect((await findShippingMethodsForCountry(env.pg.db, "US")).map((m) => [m.name, m.zoneName])).toEqual([
      ["Domestic", "Home"],
    ]);
    expect(await findShippingMethodsForCountry(env.pg.db, "JP")).toEqual([]);
  });

  it("findShippingMethodsForCountry: a deleted zone's methods are gone; a moved country follows its zone", async () => {
    const europe = await zone("Europe", ["FR", "DE"]);
    const nordics = await zone("Nordics", ["SE"]);
    await method(europe, { name: "Europe Standard" });
    await method(nordics, { name: "Nordic Post" });

    await updateZone({ id: europe, countries: ["DE"] });
    await updateZone({ id: nordics, countries: ["SE", "FR"] });
    expect((await findShippingMethodsForCountry(env.pg.db, "FR")).map((m) => [m.name, m.zoneName])).toEqual([
      ["Nordic Post", "Nordics"],
    ]);
    expect((await findShippingMethodsForCountry(env.pg.db, "DE")).map((m) => m.name)).toEqual([
      "Europe Standard",
    ]);

    await deleteZone(nordics);
    expect(await findShippingMethodsForCountry(env.pg.db, "FR")).toEqual([]);
    expect(await findShippingMethodsForCountry(env.pg.db, "SE")).toEqual([]);
    expect((await findShippingMethodsForCountry(env.pg.db, "DE")).map((m) => m.name)).toEqual([
      "Europe Standard",
    ]);
  });

  it("shipsAnywhere: true only while some zone offers an active method", async () => {
    expect(await shipsAnywhere(env.pg.db)).toBe(false);
    const europe = await zone("Europe", ["FR"]);
    expect(await shipsAnywhere(env.pg.db)).toBe(false);
    const id = await method(europe);
    expect(await shipsAnywhere(env.pg.db)).toBe(true);
    await updateMethod({ id, active: false });
    expect(await shipsAnywhere(env.pg.db)).toBe(false);
    await updateMethod({ id, active: true });
    expect(await shipsAnywhere(env.pg.db)).toBe(true);
    await deleteZone(europe);
    expect(await shipsAnywhere(env.pg.db)).toBe(false);
  });
});
