import { globalId } from "@nexus/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestEnv, type TestEnv } from "../test-env.ts";

let h: TestEnv;

beforeAll(async () => {
  h = await createTestEnv();
});
afterAll(() => h?.close());
beforeEach(() => h.reset());

const NODE = `query ($id: ID!) { node(id: $id) { __typename id ... on User { name } } }`;
const NODES = `query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`;
const ORDER = "7f0c6a52-3b7e-4c1a-9f3e-2d8b1c0a4e55";

const bearer = (accessToken: string | null) => ({ authorization: `Bearer ${accessToken}` });

describe("node", () => {
  it("shows a user to itself and to users:read:any, and null to anyone else", async () => {
    const ada = await h.register("ada@example.com", { name: "Ada" });
    const bo = await h.register("bo@example.com");
    const admin = await h.admin("admin@example.com");
    const id = ada.user?.id ?? "";
    const expected = { node: { __typename: "User", id, name: "Ada" } };
    expect((await h.run(NODE, { id }, bearer(ada.accessToken))).data).toEqual(expected);
    expect((await h.run(NODE, { id }, { authorization: admin.authorization })).data).toEqual(expected);
    expect((await h.run(NODE, { id }, bearer(bo.accessToken))).data).toEqual({ node: null });
    expect((await h.run(NODE, { id })).data).toEqual({ node: null });
  });

  it("answers another owner's type with a stub for the gateway to complete", async () => {
    const id = globalId("Order", ORDER);
    const result = await h.run(NODE, { id });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ node: { __typename: "Order", id } });
  });

  it("is null for a raw id and an unknown type, BAD_USER_INPUT for a malformed global id", async () => {
    expect((await h.run(NODE, { id: ORDER })).data).toEqual({ node: null });
    expect((await h.run(NODE, { id: "gid://nexus/Invoice/1" })).data).toEqual({ node: null });
    expect((await h.run(NODE, { id: "gid://nexus/UserError/1" })).data).toEqual({ node: null });
    const malformed = await h.run(NODE, { id: "gid://nexus/Order" });
    expect(malformed.data).toEqual({ node: null });
    expect(malformed.errors?.map((error) => error.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
  });
});

describe("nodes", () => {
  it("answers each id in its position, a malformed one failing its position only", async () => {
    const order = globalId("Order", ORDER);
    const result = await h.run(NODES, { ids: [order, "gid://nexus/Order/", globalId("Product", "p1")] });
    expect(result.data).toEqual({
      nodes: [
        { __typename: "Order", id: order },
        null,
        { __typename: "Product", id: globalId("Product", "p1") },
      ],
    });
    expect(result.errors?.map((error) => [error.path, error.extensions?.code])).toEqual([
      [["nodes", 1], "BAD_USER_INPUT"],
    ]);
  });

  it("refuses more than 100 ids", async () => {
    const ids = Array.from({ length: 101 }, () => globalId("Order", ORDER));
    const result = await h.run(NODES, { ids });
    expect(result.errors?.map((error) => error.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    expect((await h.run(NODES, { ids: ids.slice(1) })).errors).toBeUndefined();
  });
});
