import { ApolloServer } from "@apollo/server";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import { checkAccess, enforceAccess, fieldAccessRule, readAccessRules } from "./access.ts";
import type { Viewer } from "./auth.ts";

const SDL = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.12",
  import: ["@key", "@authenticated", "@requiresScopes"])
type Query {
  open: String
  mine: Account @authenticated
  audit: [String!] @requiresScopes(scopes: [["audit:read"], ["admin", "audit:any"]])
}
type Account @key(fields: "id") {
  id: ID!
  name: String
  balance: Int @requiresScopes(scopes: [["billing:read"]])
}
type Ledger @key(fields: "id") @requiresScopes(scopes: [["billing:read"]]) {
  id: ID!
  total: Int
}
`;

const viewer = (...scopes: string[]): Viewer => ({ userId: "u1", role: "CUSTOMER", scopes, tokenId: "t" });

describe("access rules", () => {
  const rules = readAccessRules(parse(SDL));

  it("are read from fields and types", () => {
    expect(rules.get("Query.mine")).toEqual({ authenticated: true, scopeSets: [] });
    expect(rules.get("Query.audit")).toEqual({
      authenticated: false,
      scopeSets: [[["audit:read"], ["admin", "audit:any"]]],
    });
    expect(rules.get("Ledger")).toEqual({ authenticated: false, scopeSets: [[["billing:read"]]] });
    expect(rules.has("Query.open")).toBe(false);
  });

  it("need every scope of one set: sets are alternatives", () => {
    const audit = fieldAccessRule(rules, "Query", "audit", "String");
    if (!audit) throw new Error("missing rule");
    expect(checkAccess(audit, null)).toBe("UNAUTHENTICATED");
    expect(checkAccess(audit, viewer())).toBe("FORBIDDEN");
    expect(checkAccess(audit, viewer("admin"))).toBe("FORBIDDEN");
    expect(checkAccess(audit, viewer("admin", "audit:any"))).toBeNull();
    expect(checkAccess(audit, viewer("audit:read"))).toBeNull();
  });

  it("of the returned type add to the field's own", () => {
    const rule = fieldAccessRule(rules, "Query", "mine", "Ledger");
    expect(rule).toEqual({ authenticated: true, scopeSets: [[["billing:read"]]] });
    if (!rule) throw new Error("missing rule");
    expect(checkAccess(rule, viewer())).toBe("FORBIDDEN");
  });
});

describe("enforceAccess in a subgraph", () => {
  const typeDefs = parse(SDL);
  const schema = enforceAccess(
    buildSubgraphSchema([
      {
        typeDefs,
        resolvers: {
          Query: {
            open: () => "yes",
            mine: () => ({ id: "a1", name: "Main", balance: 10 }),
            audit: () => ["entry"],
          },
          Account: {
            __resolveReference: (ref: { id: string }) => ({ id: ref.id, name: "Main", balance: 10 }),
          },
          Ledger: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, total: 99 }) },
        },
      },
    ]),
    typeDefs,
  );
  const server = new ApolloServer<{ viewer: Viewer | null }>({ schema });

  async function run(query: string, who: Viewer | null, variables: Record<string, unknown> = {}) {
    const response = await server.executeOperation({ query, variables }, { contextValue: { viewer: who } });
    if (response.body.kind !== "single") throw new Error("expected a single result");
    const { data, errors } = response.body.singleResult;
    return { data, errors: errors?.map((error) => ({ path: error.path, code: error.extensions?.code })) };
  }

  it("fails protected fields with UNAUTHENTICATED or FORBIDDEN and serves the rest", async () => {
    expect(await run("{ open mine { name } audit }", null)).toEqual({
      data: { open: "yes", mine: null, audit: null },
      errors: [
        { path: ["mine"], code: "UNAUTHENTICATED" },
        { path: ["audit"], code: "UNAUTHENTICATED" },
      ],
    });
    expect(await run("{ mine { name balance } audit }", viewer())).toEqual({
      data: { mine: { name: "Main", balance: null }, audit: null },
      errors: [
        { path: ["mine", "balance"], code: "FORBIDDEN" },
        { path: ["audit"], code: "FORBIDDEN" },
      ],
    });
    expect(await run("{ mine { balance } audit }", viewer("billing:read", "audit:read"))).toEqual({
      data: { mine: { balance: 10 }, audit: ["entry"] },
    });
  });

  it("guards protected fields and protected entity types in _entities", async () => {
    const query = `query ($reps: [_Any!]!) { _entities(representations: $reps) {
      ... on Account { name balance } ... on Ledger { total } } }`;
    const reps = {
      reps: [
        { __typename: "Account", id: "a1" },
        { __typename: "Ledger", id: "l1" },
      ],
    };
    expect(await run(query, viewer(), reps)).toEqual({
      data: { _entities: [{ name: "Main", balance: null }, null] },
      errors: [
        { path: ["_entities", 0, "balance"], code: "FORBIDDEN" },
        { path: ["_entities", 1], code: "FORBIDDEN" },
      ],
    });
    expect(await run(query, viewer("billing:read"), reps)).toEqual({
      data: { _entities: [{ name: "Main", balance: 10 }, { total: 99 }] },
    });
  });
});
