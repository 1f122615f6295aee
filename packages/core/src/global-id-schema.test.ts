import { buildSubgraphSchema } from "@apollo/subgraph";
import { graphql, parse } from "graphql";
import { describe, expect, it } from "vitest";
import { toGlobalId } from "./global-id.ts";
import { useGlobalIds } from "./global-id-schema.ts";

const UUID = "7f0c6a52-3b7e-4c1a-9f3e-2d8b1c0a4e55";
const PRODUCT = "65a1b2c3d4e5f60718293a4b";

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.12", import: ["@key"])
  directive @globalId(type: String!) on FIELD_DEFINITION | ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION
  type Query {
    order(id: ID! @globalId(type: "Order")): Order
    orders(filter: OrderFilter): [Order!]!
    echo(id: ID!): ID
  }
  input OrderFilter { customer: ID @globalId(type: "User"), lines: [LineFilter!] }
  input LineFilter { productIds: [ID!] @globalId(type: "Product") }
  type Order @key(fields: "id") { id: ID! lines: [Line!]! }
  type User @key(fields: "id") { id: ID! seenAs: String! }
  type Line { id: ID! productId: ID! @globalId(type: "Product") productIds: [ID!]! @globalId(type: "Product") }
`);

function build(seen: unknown[], legacy: string[]) {
  const record = <T>(value: unknown, result: T): T => {
    seen.push(value);
    return result;
  };
  const order = (id: string) => ({
    id,
    lines: [{ id: "line-1", productId: PRODUCT, productIds: [PRODUCT] }],
  });
  const schema = buildSubgraphSchema([
    {
      typeDefs,
      resolvers: {
        Query: {
          order: (_: unknown, args: { id: string }) => record(args, order(args.id)),
          orders: (_: unknown, args: unknown) => record(args, []),
          echo: (_: unknown, args: { id: string }) => args.id,
        },
        User: { seenAs: (user: { id: string }) => user.id },
        Order: {
          __resolveReference: async (reference: { id: string }) => record(reference, order(reference.id)),
        },
      },
    },
  ]);
  return useGlobalIds(schema, typeDefs, (type) => legacy.push(type));
}

async function run(source: string, variableValues?: Record<string, unknown>) {
  const seen: unknown[] = [];
  const legacy: string[] = [];
  const result = await graphql({ schema: build(seen, legacy), source, variableValues });
  return { result, seen, legacy };
}

describe("useGlobalIds", () => {
  it("encodes node ids and @globalId fields, decodes @globalId arguments for the resolver", async () => {
    const gid = toGlobalId("Order", UUID);
    const { result, seen, legacy } = await run(
      `query ($id: ID!) { order(id: $id) { id lines { id productId productIds } } }`,
      { id: gid },
    );
    expect(result.errors).toBeUndefined();
    expect(seen).toEqual([{ id: UUID }]);
    expect(legacy).toEqual([]);
    expect(result.data?.order).toEqual({
      id: gid,
      // A line is not a node: its id stays as it is.
      lines: [
        {
          id: "line-1",
          productId: toGlobalId("Product", PRODUCT),
          productIds: [toGlobalId("Product", PRODUCT)],
        },
      ],
    });
  });

  it("accepts a legacy raw id and reports it", async () => {
    const { result, seen, legacy } = await run(`{ order(id: "${UUID}") { id } }`);
    expect(seen).toEqual([{ id: UUID }]);
    expect(legacy).toEqual(["Order"]);
    expect(result.data?.order).toEqual({ id: toGlobalId("Order", UUID) });
  });

  it("refuses another type's global id and a malformed one with BAD_USER_INPUT before the resolver", async () => {
    for (const id of [toGlobalId("User", UUID), "gid://nexus/Order/"]) {
      const { result, seen } = await run(`query ($id: ID!) { order(id: $id) { id } }`, { id });
      expect(seen).toEqual([]);
      expect(result.data?.order).toBeNull();
      expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    }
  });

  it("decodes nested input objects and lists, leaving unmarked ids alone", async () => {
    const user = toGlobalId("User", UUID);
    const { result, seen, legacy } = await run(
      `query ($filter: OrderFilter) { orders(filter: $filter) { id } echo(id: "${user}") }`,
      { filter: { customer: user, lines: [{ productIds: [toGlobalId("Product", PRODUCT), PRODUCT] }] } },
    );
    expect(result.errors).toBeUndefined();
    expect(seen).toEqual([{ filter: { customer: UUID, lines: [{ productIds: [PRODUCT, PRODUCT] }] } }]);
    expect(legacy).toEqual(["Product"]);
    expect(result.data?.echo).toBe(user);
  });

  it("gives __resolveReference the raw id, and null for another type's id", async () => {
    const { result, seen } = await run(
      `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Order { id } } }`,
      {
        representations: [
          { __typename: "Order", id: toGlobalId("Order", UUID) },
          { __typename: "Order", id: UUID },
          { __typename: "Order", id: toGlobalId("Product", PRODUCT) },
        ],
      },
    );
    expect(result.errors).toBeUndefined();
    expect(seen).toEqual([
      { __typename: "Order", id: UUID },
      { __typename: "Order", id: UUID },
    ]);
    expect(result.data?._entities).toEqual([
      { id: toGlobalId("Order", UUID) },
      { id: toGlobalId("Order", UUID) },
      null,
    ]);
  });

  it("gives field resolvers of an entity without __resolveReference the raw id", async () => {
    const user = toGlobalId("User", UUID);
    const { result } = await run(
      `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { id seenAs } } }`,
      { representations: [{ __typename: "User", id: user }] },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([{ id: user, seenAs: UUID }]);
  });
});
