/**
 * How operations are measured against the limits; the limits over HTTP, with subgraphs that
 * count their requests, are in ../limits.test.ts.
 */
import { getIntrospectionQuery, parse } from "graphql";
import { describe, expect, it } from "vitest";
import { describeTokenLimit, measureOperation } from "./operation-limits.ts";

const measure = (query: string, operationName?: string) => measureOperation(parse(query), operationName);

describe("measureOperation", () => {
  it("counts a root field as depth 1 and each nested selection one deeper", () => {
    expect(measure("{ a }")).toEqual({ depth: 1, aliases: 0, directives: 0 });
    expect(measure("{ a { b { c } } d }").depth).toBe(3);
  });

  it("follows fragment spreads and inline fragments without counting them as a level", () => {
    const query = `{ a { ...F ... on T { x { y } } } }
      fragment F on T { b { ...G } }
      fragment G on T { c { d } }`;
    // a > b > c > d through two fragments; a > x > y through the inline fragment
    expect(measure(query).depth).toBe(4);
  });

  it("counts every alias wherever its fragment is spread", () => {
    const query = `{ one: a { ...F } two: a { ...F } b { ...F } }
      fragment F on T { x: name y: name }`;
    expect(measure(query).aliases).toBe(2 + 3 * 2);
  });

  it("counts directives on the operation, variables, fields, spreads, inline fragments and fragments", () => {
    const query = `query Q($v: Boolean! @deprecated) @live {
      a @include(if: $v) { ...F @skip(if: false) ... @defer { b @include(if: true) } }
    }
    fragment F on T @live { c @skip(if: $v) }`;
    // operation 1, variable 1, field a 1, spread 1, inline fragment 1, field b 1, fragment 1, field c 1
    expect(measure(query).directives).toBe(8);
  });

  it("measures only the operation the request selects", () => {
    const document = "query Shallow { a } query Deep { a { b { c } } }";
    expect(measure(document, "Shallow").depth).toBe(1);
    expect(measure(document, "Deep").depth).toBe(3);
  });

  it("ends on a fragment cycle, which validation refuses before this runs", () => {
    const query = "{ a { ...F } } fragment F on T { x: b { ...G } } fragment G on T { y: c { ...F } }";
    expect(measure(query)).toEqual({ depth: 3, aliases: 2, directives: 0 });
  });

  it("puts GraphiQL's introspection query at depth 15, the default MAX_DEPTH", () => {
    expect(measure(getIntrospectionQuery())).toEqual({ depth: 15, aliases: 0, directives: 0 });
  });
});

describe("describeTokenLimit", () => {
  it("turns the parser's token-limit error into MAX_TOKENS_LIMIT", () => {
    const parserError = {
      message: "Syntax Error: Document contains more that 5000 tokens. Parsing aborted.",
      locations: [{ line: 1, column: 9000 }],
      extensions: { code: "GRAPHQL_PARSE_FAILED" },
    };
    expect(describeTokenLimit(parserError)).toEqual({
      message: "The operation has more than 5000 tokens, the limit.",
      extensions: { code: "MAX_TOKENS_LIMIT", limit: 5000 },
    });
  });

  it("leaves every other error as it is", () => {
    const syntax = {
      message: 'Syntax Error: Expected Name, found "}".',
      extensions: { code: "GRAPHQL_PARSE_FAILED" },
    };
    expect(describeTokenLimit(syntax)).toBe(syntax);
  });
});
