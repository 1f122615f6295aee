/**
 * Zero trust: every subgraph enforces its own `@authenticated` / `@requiresScopes`, so a call
 * that bypasses the gateway's checks gets nothing protected, even one signed with the subgraph
 * secret (subgraph-trust.e2e.test.ts: unsigned ones get nothing at all). The cases come from the SDLs themselves:
 * every protected query and mutation of every subgraph is called directly, anonymously and
 * with a customer's token, with placeholder arguments. A field added later is covered too.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { checkAccess, fieldAccessRule, readAccessRules } from "@nexus/core";
import { graphql } from "@nexus/tools/graphql-client";
import { type Stack, startStack } from "@nexus/tools/stack";
import { SUBGRAPHS, schemaPath } from "@nexus/tools/subgraphs";
import {
  buildASTSchema,
  type GraphQLInputType,
  type GraphQLObjectType,
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  parse,
} from "graphql";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

let stack: Stack;

/** A direct call signed as the gateway signs its fetches: only the token decides what it gets. */
const signed = <T>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers?: Record<string, string>,
) => graphql<T>(url, query, variables, headers, { current: stack.subgraphSecret });

beforeAll(async () => {
  stack = await startStack({ mongoUrl: inject("mongoUrl") });
});
afterAll(() => stack?.stop());

/** A value of the input type that passes GraphQL validation; resolvers never see it. */
function placeholder(type: GraphQLInputType): unknown {
  const nullable = getNullableType(type);
  if (isListType(nullable)) return [];
  if (isEnumType(nullable)) return nullable.getValues()[0]?.value;
  if (isInputObjectType(nullable)) {
    const value: Record<string, unknown> = {};
    for (const field of Object.values(nullable.getFields())) {
      if (isNonNullType(field.type) && field.defaultValue === undefined)
        value[field.name] = placeholder(field.type);
    }
    return value;
  }
  if (isScalarType(nullable)) {
    switch (nullable.name) {
      case "Int":
      case "Float":
        return 1;
      case "Boolean":
        return true;
      case "DateTime":
        return "2026-01-01T00:00:00.000Z";
      default:
        return "000000000000000000000000";
    }
  }
  throw new Error(`no placeholder for ${String(type)}`);
}

interface Case {
  subgraph: (typeof SUBGRAPHS)[number]["name"];
  operation: "query" | "mutation";
  field: string;
  needsScopes: boolean;
  document: string;
  variables: Record<string, unknown>;
}

const cases: Case[] = SUBGRAPHS.flatMap(({ name }) => {
  const typeDefs = parse(readFileSync(schemaPath(name), "utf8"));
  const rules = readAccessRules(typeDefs);
  const schema = buildASTSchema(typeDefs, { assumeValidSDL: true });
  const roots: ["query" | "mutation", GraphQLObjectType | null | undefined][] = [
    ["query", schema.getQueryType()],
    ["mutation", schema.getMutationType()],
  ];
  return roots.flatMap(([operation, root]) =>
    Object.values(root?.getFields() ?? {}).flatMap((field): Case[] => {
      const rule = fieldAccessRule(rules, root?.name ?? "", field.name, getNamedType(field.type));
      if (!rule) return [];
      const required = field.args.filter((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined);
      const definitions = required.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(", ");
      const args = required.map((arg) => `${arg.name}: $${arg.name}`).join(", ");
      const selection =
        isScalarType(getNamedType(field.type)) || isEnumType(getNamedType(field.type))
          ? ""
          : " { __typename }";
      return [
        {
          subgraph: name,
          operation,
          field: field.name,
          needsScopes: checkAccess(rule, { scopes: [] }) === "FORBIDDEN",
          document: `${operation}${definitions ? `(${definitions})` : ""} { ${field.name}${args ? `(${args})` : ""}${selection} }`,
          variables: Object.fromEntries(required.map((arg) => [arg.name, placeholder(arg.type)])),
        },
      ];
    }),
  );
});

describe("direct calls to subgraphs", () => {
  it("cover every protected root field of every subgraph", () => {
    expect(new Set(cases.map((c) => c.subgraph))).toEqual(new Set(SUBGRAPHS.map((s) => s.name)));
    expect(cases.length).toBeGreaterThan(25);
  });

  it.each(cases.map((c) => [`${c.subgraph} ${c.operation} ${c.field}`, c] as const))(
    "%s: nothing without a token, nothing without the scope",
    async (_name, c) => {
      const url = stack.subgraphUrls[c.subgraph];
      const anonymous = await signed<Record<string, unknown>>(url, c.document, c.variables);
      expect(anonymous.body.data?.[c.field] ?? null).toBeNull();
      expect(anonymous.body.errors?.map((error) => error.extensions?.code)).toEqual(["UNAUTHENTICATED"]);

      if (c.needsScopes) {
        const customer = await stack.auth.bearer(randomUUID(), "CUSTOMER");
        const forbidden = await signed<Record<string, unknown>>(url, c.document, c.variables, {
          authorization: customer,
        });
        expect(forbidden.body.data?.[c.field] ?? null).toBeNull();
        expect(forbidden.body.errors?.map((error) => error.extensions?.code)).toEqual(["FORBIDDEN"]);
      }
    },
  );

  it("refuse a forged token outright, with HTTP 401", async () => {
    const { status, body } = await signed(
      stack.subgraphUrls.orders,
      "{ __typename }",
      {},
      {
        authorization: "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
      },
    );
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });
});
