import type { Scope } from "@nexus/core";
import { rawId } from "@nexus/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AuthData, createTestEnv, type TestEnv } from "../test-env.ts";

let h: TestEnv;
let admin: string;

beforeAll(async () => {
  h = await createTestEnv();
});
afterAll(() => h?.close());
beforeEach(async () => {
  await h.reset();
  admin = (await h.admin("admin@example.com")).authorization;
});

/** A token with exactly these scopes, to show which one a field needs. */
async function bearerWith(scopes: Scope[]): Promise<string> {
  const { token } = await h.signer.sign({
    sub: "00000000-0000-4000-8000-000000000001",
    role: "ADMIN",
    scopes,
  });
  return `Bearer ${token}`;
}

const IMPORT = `mutation ($input: ImportCustomersInput!) {
  importCustomers(input: $input) {
    customers { externalId created user { id email name role externalId countryCode } }
    userErrors { field code message }
  }
}`;

interface ImportPayload {
  customers: {
    externalId: string;
    created: boolean;
    user: {
      id: string;
      email: string | null;
      name: string;
      role: string;
      externalId: string | null;
      countryCode: string | null;
    };
  }[];
  userErrors: { field: string[] | null; code: string; message: string }[];
}

async function importAs(customers: unknown[], authorization = admin): Promise<ImportPayload> {
  const result = await h.run(IMPORT, { input: { customers } }, { authorization });
  expect(result.errors).toBeUndefined();
  return (result.data as { importCustomers: ImportPayload }).importCustomers;
}

const countUsers = async () =>
  Number(
    (
      await h.pg.db
        .selectFrom("users")
        .select((eb) => eb.fn.countAll<string>().as("n"))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe("importCustomers", () => {
  it("needs store:import: anonymous, customers and account readers are refused, an importer is not", async () => {
    const input = { input: { customers: [{ externalId: "1" }] } };
    const anonymous = await h.run(IMPORT, input);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const customer = await h.register("shopper@example.com");
    const refused = await h.run(IMPORT, input, { authorization: `Bearer ${customer.accessToken}` });
    expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const reader = await h.run(IMPORT, input, { authorization: await bearerWith(["users:read:any"]) });
    expect(reader.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await countUsers()).toBe(2);

    const result = await h.run(
      `mutation ($input: ImportCustomersInput!) { importCustomers(input: $input) { customers { externalId created } } }`,
      input,
      { authorization: await bearerWith(["store:import"]) },
    );
    expect(result.data).toEqual({ importCustomers: { customers: [{ externalId: "1", created: true }] } });
  });

  it("creates CUSTOMER accounts with no email and no password, in input order", async () => {
    const payload = await importAs([
      { externalId: " 12346 ", countryCode: " gb " },
      { externalId: "12347", countryCode: null },
      { externalId: "C-9" },
    ]);
    expect(payload.userErrors).toEqual([]);
    expect(payload.customers).toEqual([
      {
        externalId: "12346",
        created: true,
        user: {
          id: expect.any(String),
          email: null,
          name: "Customer 12346",
          role: "CUSTOMER",
          externalId: "12346",
          countryCode: "GB",
        },
      },
      expect.objectContaining({ externalId: "12347", created: true }),
      expect.objectContaining({ externalId: "C-9", created: true }),
    ]);
    expect(payload.customers[1]?.user.countryCode).toBeNull();

    const rows = await h.pg.db
      .selectFrom("users")
      .select(["id", "email", "password_hash", "name", "role", "external_id", "country_code"])
      .where("external_id", "is not", null)
      .orderBy("external_id")
      .execute();
    expect(rows).toEqual([
      {
        id: rawId(payload.customers[0]?.user.id),
        email: null,
        password_hash: null,
        name: "Customer 12346",
        role: "CUSTOMER",
        external_id: "12346",
        country_code: "GB",
      },
      expect.objectContaining({ external_id: "12347", email: null, password_hash: null, country_code: null }),
      expect.objectContaining({ external_id: "C-9", email: null, password_hash: null }),
    ]);
  });

  it("changes nothing when run again: the same accounts come back with created false", async () => {
    const first = await importAs([{ externalId: "R1", countryCode: "FR" }, { externalId: "R2" }]);
    const again = await importAs([
      { externalId: "R2", countryCode: "DE" },
      { externalId: "R1", countryCode: "DE" },
      { externalId: "R3" },
    ]);
    expect(again.customers.map((c) => [c.externalId, c.created])).toEqual([
      ["R2", false],
      ["R1", false],
      ["R3", true],
    ]);
    expect(again.customers[1]?.user).toEqual(first.customers[0]?.user);
    expect(again.customers[0]?.user.id).toBe(first.customers[1]?.user.id);
    // Returned as it is: the second import's country does not overwrite the first's.
    expect(again.customers[1]?.user.countryCode).toBe("FR");
    expect(await countUsers()).toBe(4);
  });

  it.each([
    ["an empty externalId", { externalId: "" }, "externalId", "INVALID_EXTERNAL_ID"],
    ["a blank externalId", { externalId: "   " }, "externalId", "INVALID_EXTERNAL_ID"],
    ["an externalId over 64 characters", { externalId: "x".repeat(65) }, "externalId", "INVALID_EXTERNAL_ID"],
    ["an externalId with a tab", { externalId: "a\tb" }, "externalId", "INVALID_EXTERNAL_ID"],
    ["an externalId with a line break", { externalId: "a\nb" }, "externalId", "INVALID_EXTERNAL_ID"],
    ["a reserved country code", { externalId: "V1", countryCode: "UK" }, "countryCode", "INVALID_COUNTRY"],
    [
      "a three-letter country code",
      { externalId: "V1", countryCode: "GBR" },
      "countryCode",
      "INVALID_COUNTRY",
    ],
    ["a country name", { externalId: "V1", countryCode: "United Kingdom" }, "countryCode", "INVALID_COUNTRY"],
  ])("refuses %s, writing nothing", async (_label, bad, field, code) => {
    const payload = await importAs([{ externalId: "OK" }, bad]);
    expect(payload).toEqual({
      customers: [],
      userErrors: [{ field: ["input", "customers", "1", field], code, message: expect.any(String) }],
    });
    expect(await countUsers()).toBe(1);
  });

  it("accepts 64 characters exactly, and an empty country as none", async () => {
    const payload = await importAs([{ externalId: ` ${"x".repeat(64)} `, countryCode: " " }]);
    expect(payload.customers[0]).toMatchObject({ externalId: "x".repeat(64), user: { countryCode: null } });
  });

  it("refuses an externalId given twice in one call (after trimming), reporting every error at once", async () => {
    const payload = await importAs([
      { externalId: "D1" },
      { externalId: " D1" },
      { externalId: "", countryCode: "ZZ" },
    ]);
    expect(payload.userErrors.map((e) => [e.field?.join("."), e.code])).toEqual([
      ["input.customers.1.externalId", "DUPLICATE_EXTERNAL_ID"],
      ["input.customers.2.externalId", "INVALID_EXTERNAL_ID"],
      ["input.customers.2.countryCode", "INVALID_COUNTRY"],
    ]);
    expect(await countUsers()).toBe(1);
  });

  it("refuses more than 1000 customers in one call", async () => {
    const customers = Array.from({ length: 1001 }, (_, i) => ({ externalId: `M${i}` }));
    const payload = await importAs(customers);
    expect(payload.userErrors).toEqual([
      {
        field: ["input", "customers"],
        code: "TOO_MANY_CUSTOMERS",
        message: "At most 1000 customers per call.",
      },
    ]);
    expect(await countUsers()).toBe(1);
    expect((await importAs(customers.slice(0, 1000))).customers).toHaveLength(1000);
  });

  it("accepts an empty list and writes nothing", async () => {
    expect(await importAs([])).toEqual({ customers: [], userErrors: [] });
  });

  it("lets concurrent imports of overlapping batches create each account once", async () => {
    // Orders differ between the calls, as they would between two files: rows must still be
    // locked in one order, or two inserts each wait for the other's uncommitted rows.
    const ids = Array.from({ length: 1000 }, (_, i) => `CC${i}`);
    const results = await Promise.all([
      importAs(ids.slice(0, 700).map((externalId) => ({ externalId }))),
      importAs(ids.slice(300).map((externalId) => ({ externalId }))),
      importAs([...ids].reverse().map((externalId) => ({ externalId }))),
      importAs([...ids].sort().map((externalId) => ({ externalId }))),
      importAs([...ids].reverse().map((externalId) => ({ externalId }))),
    ]);
    const created = results.flatMap((r) => r.customers.filter((c) => c.created).map((c) => c.externalId));
    expect(created.sort()).toEqual([...ids].sort());
    const idOf = new Map(results[2]?.customers.map((c) => [c.externalId, c.user.id]));
    for (const c of results.flatMap((r) => r.customers)) expect(c.user.id).toBe(idOf.get(c.externalId));
    expect(await countUsers()).toBe(1001);
  });

  it("imports 4,400 customers in batches of 1000 in seconds", async () => {
    const all = Array.from({ length: 4400 }, (_, i) => ({
      externalId: String(12346 + i),
      countryCode: "GB",
    }));
    const started = performance.now();
    for (let i = 0; i < all.length; i += 1000) {
      const payload = await importAs(all.slice(i, i + 1000));
      expect(payload.customers.filter((c) => c.created)).toHaveLength(Math.min(1000, all.length - i));
    }
    const elapsed = performance.now() - started;
    const againStarted = performance.now();
    for (let i = 0; i < all.length; i += 1000) {
      const payload = await importAs(all.slice(i, i + 1000));
      expect(payload.customers.every((c) => !c.created)).toBe(true);
    }
    const again = performance.now() - againStarted;
    console.log(
      `importCustomers: 4,400 customers in 5 batches: ${Math.round(elapsed)} ms; re-run: ${Math.round(again)} ms`,
    );
    expect(elapsed).toBeLessThan(20_000);
    expect(await countUsers()).toBe(4401);
  }, 60_000);
});

describe("accounts without email or password", () => {
  const LOGIN = `mutation ($input: LoginInput!) { login(input: $input) { accessToken user { id } userErrors { field message code } } }`;

  it("cannot sign in, even once given an email: the answer is the one for a wrong password", async () => {
    const [imported] = (await importAs([{ externalId: "L1" }])).customers;
    await h.pg.db
      .updateTable("users")
      .set({ email: "imported@example.com" })
      .where("id", "=", rawId(imported?.user.id))
      .execute();
    await h.register("known@example.com", { password: "right password" });

    const noPassword = await h.run(LOGIN, {
      input: { email: "imported@example.com", password: "anything at all" },
    });
    const wrongPassword = await h.run(LOGIN, {
      input: { email: "known@example.com", password: "wrong password" },
    });
    const emptyPassword = await h.run(LOGIN, { input: { email: "imported@example.com", password: "" } });
    const expected = {
      login: {
        accessToken: null,
        user: null,
        userErrors: [
          { field: null, code: "INVALID_CREDENTIALS", message: "The email or password is incorrect." },
        ],
      },
    };
    expect(wrongPassword.data).toEqual(expected);
    expect(noPassword.data).toEqual(expected);
    expect(emptyPassword.data).toEqual(expected);
  });

  it("cannot change a password they do not have", async () => {
    const [imported] = (await importAs([{ externalId: "P1" }])).customers;
    const { token } = await h.signer.sign({ sub: rawId(imported?.user.id), role: "CUSTOMER", scopes: [] });
    const result = await h.run(
      `mutation ($input: ChangePasswordInput!) { changePassword(input: $input) { accessToken userErrors { field code } } }`,
      { input: { currentPassword: "", newPassword: "a new password" } },
      { authorization: `Bearer ${token}` },
    );
    expect(result.data).toEqual({
      changePassword: {
        accessToken: null,
        userErrors: [{ field: ["input", "currentPassword"], code: "INVALID_CREDENTIALS" }],
      },
    });
    const row = await h.pg.db
      .selectFrom("users")
      .select("password_hash")
      .where("id", "=", rawId(imported?.user.id))
      .executeTakeFirstOrThrow();
    expect(row.password_hash).toBeNull();
  });

  it("are listed, searched and read with a null email and no error", async () => {
    await importAs([{ externalId: "S-100", countryCode: "NL" }]);
    const listed = await h.run(
      `{ users(search: "customer s-100") { totalCount edges { node { email name externalId countryCode } } } }`,
      {},
      { authorization: admin },
    );
    expect(listed.errors).toBeUndefined();
    expect(listed.data).toEqual({
      users: {
        totalCount: 1,
        edges: [{ node: { email: null, name: "Customer S-100", externalId: "S-100", countryCode: "NL" } }],
      },
    });
    const all = await h.run(
      `{ users { totalCount edges { node { email } } } }`,
      {},
      { authorization: admin },
    );
    expect(all.errors).toBeUndefined();
    expect(all.data).toEqual({
      users: { totalCount: 2, edges: [{ node: { email: null } }, { node: { email: "admin@example.com" } }] },
    });
  });
});

describe("User.externalId and User.countryCode", () => {
  const ENTITIES = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id name externalId countryCode } } }`;

  it("are shown to users:read:any holders, and to no one else, not even the account holder", async () => {
    const [imported] = (await importAs([{ externalId: "X1", countryCode: "IE" }])).customers;
    const id = imported?.user.id ?? "";
    const reps = { reps: [{ __typename: "User", id }] };

    const staff = await h.run(ENTITIES, reps, { authorization: await bearerWith(["users:read:any"]) });
    expect(staff.errors).toBeUndefined();
    expect(staff.data).toEqual({
      _entities: [{ id, name: "Customer X1", externalId: "X1", countryCode: "IE" }],
    });

    const importerOnly = await h.run(ENTITIES, reps, { authorization: await bearerWith(["store:import"]) });
    expect(importerOnly.data).toEqual({
      _entities: [{ id, name: "Customer X1", externalId: null, countryCode: null }],
    });
    expect(importerOnly.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN", "FORBIDDEN"]);

    const anonymous = await h.run(ENTITIES, reps);
    expect(anonymous.data).toEqual({
      _entities: [{ id, name: "Customer X1", externalId: null, countryCode: null }],
    });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");

    // An account holder sees its own email and role, but not the previous system's id.
    const { token } = await h.signer.sign({ sub: rawId(id), role: "CUSTOMER", scopes: [] });
    const own = await h.run(`{ me { id email externalId } }`, {}, { authorization: `Bearer ${token}` });
    expect(own.data).toEqual({ me: { id, email: null, externalId: null } });
    expect(own.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
  });

  it("are null for an account that was not imported", async () => {
    const registered = (await h.register("plain@example.com")) as AuthData;
    const result = await h.run(
      `query ($id: ID!) { user(id: $id) { email externalId countryCode } }`,
      { id: registered.user?.id },
      { authorization: admin },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      user: { email: "plain@example.com", externalId: null, countryCode: null },
    });
  });
});
