import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestEnv, type TestEnv } from "../test-env.ts";
import { MAX_ADDRESSES } from "./address.service.ts";

let h: TestEnv;
beforeAll(async () => {
  h = await createTestEnv();
});
afterAll(() => h?.close());
beforeEach(() => h.reset());

const HOME = {
  name: "Ada Lovelace",
  line1: "12 St James's Square",
  city: "London",
  postalCode: "sw1y 4jh",
  countryCode: "gb",
};
const WORK = {
  name: "Ada Lovelace",
  line1: "1 Main St",
  line2: "Suite 5",
  city: "Springfield",
  region: "IL",
  postalCode: "62701",
  countryCode: "US",
};

const PAYLOAD = "address { id name postalCode countryCode isDefault } user { id } userErrors { field code }";
const ADD = `mutation ($input: AddAddressInput!) { addAddress(input: $input) { ${PAYLOAD} } }`;
const UPDATE = `mutation ($input: UpdateAddressInput!) { updateAddress(input: $input) { ${PAYLOAD} } }`;
const REMOVE = `mutation ($input: RemoveAddressInput!) { removeAddress(input: $input) { ${PAYLOAD} } }`;
const SET_DEFAULT = `mutation ($input: SetDefaultAddressInput!) { setDefaultAddress(input: $input) { ${PAYLOAD} } }`;
const BOOK = "{ me { addresses { id line1 isDefault } defaultAddress { line1 } } }";

interface Payload {
  address: { id: string; name: string; postalCode: string; countryCode: string; isDefault: boolean } | null;
  user: { id: string } | null;
  userErrors: { field: string[] | null; code: string }[];
}

async function customer(email: string) {
  const { accessToken, user } = await h.register(email);
  return { id: user?.id ?? "", authorization: `Bearer ${accessToken}` };
}

async function mutate(
  query: string,
  input: Record<string, unknown>,
  authorization: string,
): Promise<Payload> {
  const result = await h.run(query, { input }, { authorization });
  expect(result.errors).toBeUndefined();
  return Object.values(result.data ?? {})[0] as Payload;
}

async function book(authorization: string) {
  return (await h.run(BOOK, {}, { authorization })).data;
}

describe("address book", () => {
  it("normalizes a new address and makes the first one the default", async () => {
    const ada = await customer("ada@example.com");
    const first = await mutate(ADD, { address: HOME }, ada.authorization);
    expect(first).toMatchObject({
      address: { name: "Ada Lovelace", postalCode: "SW1Y 4JH", countryCode: "GB", isDefault: true },
      user: { id: ada.id },
      userErrors: [],
    });
    const second = await mutate(ADD, { address: WORK }, ada.authorization);
    expect(second.address?.isDefault).toBe(false);
    expect(await book(ada.authorization)).toEqual({
      me: {
        addresses: [
          { id: first.address?.id, line1: HOME.line1, isDefault: true },
          { id: second.address?.id, line1: WORK.line1, isDefault: false },
        ],
        defaultAddress: { line1: HOME.line1 },
      },
    });
  });

  it("moves the default, and promotes the oldest address when the default is removed", async () => {
    const ada = await customer("move@example.com");
    const home = await mutate(ADD, { address: HOME }, ada.authorization);
    const work = await mutate(ADD, { address: WORK, makeDefault: true }, ada.authorization);
    const third = await mutate(ADD, { address: { ...WORK, line1: "3 Third St" } }, ada.authorization);
    expect(work.address?.isDefault).toBe(true);
    expect((await mutate(SET_DEFAULT, { id: third.address?.id }, ada.authorization)).address?.isDefault).toBe(
      true,
    );
    await mutate(REMOVE, { id: third.address?.id }, ada.authorization);
    expect(await book(ada.authorization)).toEqual({
      me: {
        addresses: [
          { id: home.address?.id, line1: HOME.line1, isDefault: true },
          { id: work.address?.id, line1: WORK.line1, isDefault: false },
        ],
        defaultAddress: { line1: HOME.line1 },
      },
    });
  });

  it("replaces an address with a validated one", async () => {
    const ada = await customer("update@example.com");
    const home = await mutate(ADD, { address: HOME }, ada.authorization);
    const updated = await mutate(
      UPDATE,
      { id: home.address?.id, address: { ...HOME, postalCode: "ec1a 1bb" } },
      ada.authorization,
    );
    expect(updated.address).toMatchObject({ id: home.address?.id, postalCode: "EC1A 1BB", isDefault: true });
  });

  it("refuses invalid addresses with a code per field and stores nothing", async () => {
    const ada = await customer("invalid@example.com");
    const payload = await mutate(
      ADD,
      { address: { ...HOME, countryCode: "UK", city: " ", postalCode: "<script>" } },
      ada.authorization,
    );
    expect(payload.address).toBeNull();
    expect(payload.userErrors).toEqual([
      { field: ["input", "address", "city"], code: "INVALID_ADDRESS" },
      { field: ["input", "address", "postalCode"], code: "INVALID_ADDRESS" },
      { field: ["input", "address", "countryCode"], code: "INVALID_COUNTRY" },
    ]);
    expect(await h.pg.db.selectFrom("addresses").selectAll().execute()).toEqual([]);
  });

  it(`holds at most ${MAX_ADDRESSES} addresses, with one default even under concurrent adds`, async () => {
    const ada = await customer("many@example.com");
    const results = await Promise.all(
      Array.from({ length: MAX_ADDRESSES + 3 }, (_, i) =>
        mutate(
          ADD,
          { address: { ...WORK, line1: `${i} Main St` }, makeDefault: i % 2 === 0 },
          ada.authorization,
        ),
      ),
    );
    expect(results.filter((result) => result.address)).toHaveLength(MAX_ADDRESSES);
    expect(results.filter((result) => result.userErrors[0]?.code === "ADDRESS_LIMIT")).toHaveLength(3);
    const defaults = await h.pg.db
      .selectFrom("addresses")
      .select("id")
      .where("is_default", "=", true)
      .execute();
    expect(defaults).toHaveLength(1);
  });

  it("never lets a customer read or change another's addresses (NOT_FOUND, nothing changed)", async () => {
    const owner = await customer("owner@example.com");
    const intruder = await customer("intruder@example.com");
    const home = await mutate(ADD, { address: HOME }, owner.authorization);
    const id = home.address?.id;
    for (const [query, input] of [
      [UPDATE, { id, address: WORK }],
      [REMOVE, { id }],
      [SET_DEFAULT, { id }],
    ] as const) {
      const payload = await mutate(query, input, intruder.authorization);
      expect(payload).toMatchObject({
        address: null,
        userErrors: [{ field: ["input", "id"], code: "NOT_FOUND" }],
      });
    }
    expect(await book(owner.authorization)).toEqual({
      me: { addresses: [{ id, line1: HOME.line1, isDefault: true }], defaultAddress: { line1: HOME.line1 } },
    });
    // The book itself, through the User entity: other customers are refused, admins see it.
    const query = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { addresses { line1 } } } }`;
    const reps = { reps: [{ __typename: "User", id: owner.id }] };
    const asIntruder = await h.run(query, reps, { authorization: intruder.authorization });
    expect(asIntruder.data).toEqual({ _entities: [{ addresses: null }] });
    expect(asIntruder.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const admin = await h.admin("admin@example.com");
    expect((await h.run(query, reps, { authorization: admin.authorization })).data).toEqual({
      _entities: [{ addresses: [{ line1: HOME.line1 }] }],
    });
  });

  it("refuses anonymous changes and malformed ids", async () => {
    const anonymous = await h.run(ADD, { input: { address: HOME } });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const ada = await customer("ids@example.com");
    const payload = await mutate(REMOVE, { id: "not-a-uuid" }, ada.authorization);
    expect(payload.userErrors).toEqual([{ field: ["input", "id"], code: "NOT_FOUND" }]);
  });
});
