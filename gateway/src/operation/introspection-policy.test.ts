import { ApolloServer } from "@apollo/server";
import { ROLE_SCOPES, type Role, type Viewer } from "@nexus/core";
import { buildSchema, getOperationAST, parse } from "graphql";
import { describe, expect, it } from "vitest";
import type { GatewayContext } from "../edge/context.ts";
import { selectsIntrospection, useIntrospectionPolicy } from "./introspection-policy.ts";

const schema = buildSchema(`
  enum Consumer { INVENTORY ORDERS }
  type Query {
    products(first: Int): [Product!]!
    events(consumer: Consumer!): [String!]!
  }
  type Product { id: ID! name: String! }
`);
const rootValue = {
  products: () => [{ id: "p1", name: "Desk" }],
  events: () => ["e1"],
};

const server = new ApolloServer<GatewayContext>({
  schema,
  rootValue,
  // As createServer sets it: the plugin, not Apollo's switch, decides who may introspect.
  introspection: true,
  includeStacktraceInErrorResponses: false,
  plugins: [useIntrospectionPolicy({ mayIntrospect: (viewer) => viewer?.role === "ADMIN" })],
});

const viewer = (role: Role): Viewer => ({ userId: "u1", role, scopes: ROLE_SCOPES[role], tokenId: "t1" });

async function run(query: string, who: Viewer | null, variables?: Record<string, unknown>) {
  const contextValue: GatewayContext = {
    viewer: who,
    client: { name: null, kind: who ? "user" : "anonymous", ip: "127.0.0.1" },
    requestId: "r1",
    forwardedHeaders: {},
    observed: { operationName: null },
  };
  const response = await server.executeOperation({ query, variables }, { contextValue });
  if (response.body.kind !== "single") throw new Error("expected a single result");
  return { status: response.http.status, ...response.body.singleResult };
}

const REFUSED = {
  errors: [{ message: "Introspection is available to admins only.", extensions: { code: "FORBIDDEN" } }],
};

describe("useIntrospectionPolicy", () => {
  it.each([
    ["__schema", "{ __schema { queryType { name } } }"],
    ["__type", '{ __type(name: "Product") { name } }'],
    ["__schema next to other fields", "{ products { id } __schema { types { name } } }"],
    ["__schema in a fragment", "query { ...Q } fragment Q on Query { __schema { queryType { name } } }"],
    ["__type in an inline fragment", '{ ... on Query { __type(name: "Query") { name } } }'],
  ])("refuses %s to anonymous viewers and customers with 403 FORBIDDEN", async (_case, query) => {
    for (const who of [null, viewer("CUSTOMER"), viewer("PARTNER")]) {
      const result = await run(query, who);
      expect(result.status).toBe(403);
      expect(result).toMatchObject(REFUSED);
      expect(result.data).toBeUndefined();
    }
  });

  it("serves introspection to admins", async () => {
    const result = await run("{ __schema { queryType { name } } }", viewer("ADMIN"));
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ __schema: { queryType: { name: "Query" } } });
  });

  it("allows __typename to everyone", async () => {
    const result = await run("{ __typename products { __typename id } }", null);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ __typename: "Query", products: [{ __typename: "Product", id: "p1" }] });
  });

  it("refuses only the operation that runs, not another one in the same document", async () => {
    const query = "query Introspect { __schema { queryType { name } } } query Products { products { id } }";
    const contextValue: GatewayContext = {
      viewer: null,
      client: { name: null, kind: "anonymous", ip: "127.0.0.1" },
      requestId: "r1",
      forwardedHeaders: {},
      observed: { operationName: null },
    };
    const response = await server.executeOperation({ query, operationName: "Products" }, { contextValue });
    expect(response.body).toMatchObject({ singleResult: { data: { products: [{ id: "p1" }] } } });
  });

  it("hides 'Did you mean' suggestions from viewers who may not introspect", async () => {
    for (const who of [null, viewer("CUSTOMER")]) {
      const result = await run("{ produts { id nme } }", who);
      expect(result.errors?.map((error) => error.message)).toEqual([
        'Cannot query field "produts" on type "Query".',
      ]);
    }
  });

  it("hides suggestions for enum values in variables, reported at execution", async () => {
    const result = await run("query ($c: Consumer!) { events(consumer: $c) }", null, { c: "INVENTRY" });
    expect(result.errors?.[0]?.message).toMatch(/^Variable "\$c" got invalid value "INVENTRY"/);
    expect(result.errors?.[0]?.message).not.toContain("Did you mean");
  });

  it("keeps suggestions for admins", async () => {
    const result = await run("{ produts { id } }", viewer("ADMIN"));
    expect(result.errors?.map((error) => error.message)).toEqual([
      'Cannot query field "produts" on type "Query". Did you mean "products"?',
    ]);
  });
});

describe("selectsIntrospection", () => {
  const check = (query: string) => {
    const document = parse(query);
    const operation = getOperationAST(document);
    if (!operation) throw new Error("no operation");
    return selectsIntrospection(operation, document);
  };

  it("follows fragments, also recursive ones, and nested selections", () => {
    expect(check('{ a { b { __type(name: "X") { name } } } }')).toBe(true);
    expect(
      check("{ ...A } fragment A on Query { ...B } fragment B on Query { __schema { types { name } } }"),
    ).toBe(true);
    expect(check("{ ...A } fragment A on Query { a { ...A } }")).toBe(false);
    expect(check("{ a { __typename } }")).toBe(false);
  });
});
