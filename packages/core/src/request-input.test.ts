import { ApolloServer } from "@apollo/server";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse } from "graphql";
import { beforeEach, describe, expect, it } from "vitest";
import { findRefusedCharacter } from "./input-text.ts";
import { createLogger } from "./logger.ts";
import { subgraphServerOptions } from "./subgraph.ts";

/** What the resolvers received: a refused operation must leave this empty. */
let received: unknown[] = [];

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.12", import: ["@key"])
  type Query {
    echo(text: String, id: ID, tags: [String!]): String
    node(id: ID!): Note
  }
  type Mutation { addNote(input: AddNoteInput!): Note! }
  input AddNoteInput { title: String! body: String lines: [LineInput!] }
  input LineInput { text: String! }
  type Note @key(fields: "id") { id: ID! title: String! }
`);

const server = new ApolloServer({
  schema: buildSubgraphSchema([
    {
      typeDefs,
      resolvers: {
        Query: {
          echo: (_parent: unknown, args: unknown) => {
            received.push(args);
            return "ok";
          },
          node: (_parent: unknown, args: { id: string }) => {
            received.push(args);
            return { id: args.id, title: "t" };
          },
        },
        Mutation: {
          addNote: (_parent: unknown, args: { input: { title: string } }) => {
            received.push(args);
            return { id: "n1", title: args.input.title };
          },
        },
        Note: {
          __resolveReference: (ref: { id: string }) => {
            received.push(ref);
            return { id: ref.id, title: "t" };
          },
        },
      },
    },
  ]),
  ...subgraphServerOptions(createLogger("test", "silent")),
});

beforeEach(() => {
  received = [];
});

async function run(query: string, variables: Record<string, unknown> = {}) {
  const response = await server.executeOperation({ query, variables });
  if (response.body.kind !== "single") throw new Error("expected a single result");
  return { status: response.http.status ?? 200, ...response.body.singleResult };
}

describe("findRefusedCharacter", () => {
  it("allows ordinary and multi-line text, whatever the script", () => {
    for (const text of [
      "",
      "Desk",
      "line one\nline two\r\n\tindented",
      "Größe ✓ 日本語 👍🏽",
      "\u00a0\u00ff",
    ]) {
      expect(findRefusedCharacter(text), JSON.stringify(text)).toBeNull();
    }
  });

  it("refuses NUL, the other C0 controls, DEL, C1 controls and unpaired surrogates", () => {
    const cases: [string, string][] = [
      ["a\u0000b", "U+0000"],
      ["\u0001", "U+0001"],
      ["bell\u0007", "U+0007"],
      ["\u000b", "U+000B"],
      ["\u000c", "U+000C"],
      ["\u001b[31m", "U+001B"],
      ["\u007f", "U+007F"],
      ["\u0085", "U+0085"],
      ["\u009f", "U+009F"],
      ["\ud800", "U+D800"],
      ["x\udfffy", "U+DFFF"],
      ["\udc00\ud800", "U+DC00"],
    ];
    for (const [text, codePoint] of cases) {
      expect(findRefusedCharacter(text)?.codePoint, JSON.stringify(text)).toBe(codePoint);
    }
  });
});

describe("text in arguments", () => {
  it("is refused with HTTP 400 and BAD_USER_INPUT naming the argument, before any resolver runs", async () => {
    const result = await run("query ($t: String) { echo(text: $t) }", { t: "a\u0000b" });
    expect(result.status).toBe(400);
    expect(result.data).toBeUndefined();
    expect(result.errors).toEqual([
      {
        message:
          "echo(text) contains U+0000, a control character: text may contain no control characters other than tab, line feed and carriage return.",
        extensions: { code: "BAD_USER_INPUT", field: "text" },
      },
    ]);
    expect(received).toEqual([]);
  });

  it("is checked in literals, IDs, lists and nested input objects, in variables and in defaults", async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['{ echo(text: "a\\u0000") }', {}, "text"],
      ["query ($id: ID) { echo(id: $id) }", { id: "\u0001" }, "id"],
      ['{ echo(tags: ["ok", "\\u0007"]) }', {}, "tags.1"],
      ["query ($tags: [String!]) { echo(tags: $tags) }", { tags: ["ok", "\ud800"] }, "tags.1"],
      ['query ($t: String = "\\u0000") { echo(text: $t) }', {}, "text"],
      ["query ($id: ID!) { node(id: $id) { id } }", { id: "\u0085" }, "id"],
      [
        "mutation ($input: AddNoteInput!) { addNote(input: $input) { id } }",
        { input: { title: "\u0000" } },
        "input.title",
      ],
      [
        "mutation ($input: AddNoteInput!) { addNote(input: $input) { id } }",
        { input: { title: "ok", lines: [{ text: "ok" }, { text: "\u001b" }] } },
        "input.lines.1.text",
      ],
      [
        'mutation ($body: String) { addNote(input: { title: "ok", body: $body, lines: [{ text: "\\u007f" }] }) { id } }',
        { body: "fine" },
        "input.lines.0.text",
      ],
      ["query ($t: String) { ...Echo } fragment Echo on Query { echo(text: $t) }", { t: "\u0000" }, "text"],
      ["query ($t: String) { ... on Query { echo(text: $t) } }", { t: "\u0000" }, "text"],
    ];
    for (const [query, variables, field] of cases) {
      const result = await run(query, variables);
      expect(result.status, query).toBe(400);
      expect(result.errors?.[0]?.extensions, query).toEqual({ code: "BAD_USER_INPUT", field });
    }
    expect(received).toEqual([]);
  });

  it("is checked in the representations a gateway sends to _entities", async () => {
    const result = await run(
      "query ($r: [_Any!]!) { _entities(representations: $r) { ... on Note { id } } }",
      { r: [{ __typename: "Note", id: "n\u0000" }] },
    );
    expect(result.status).toBe(400);
    expect(result.errors?.[0]?.extensions).toEqual({ code: "BAD_USER_INPUT", field: "representations.0.id" });
    expect(received).toEqual([]);
  });

  it("lets multi-line text and every script through", async () => {
    const body = "First line\nsecond line\r\n\tindented — Größe 日本語 👍🏽";
    const result = await run("mutation ($input: AddNoteInput!) { addNote(input: $input) { title } }", {
      input: { title: body, lines: [{ text: body }] },
    });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ addNote: { title: body } });
  });

  it("ignores variables the operation does not declare", async () => {
    const result = await run('{ echo(text: "ok") }', { unused: "\u0000" });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ echo: "ok" });
  });
});

describe("operations a subgraph cannot run", () => {
  it("a name that matches no operation, or none given for several, is HTTP 400", async () => {
    for (const [query, operationName] of [
      ["query A { echo }", "B"],
      ["query A { echo } query B { echo }", undefined],
    ] as const) {
      const response = await server.executeOperation({ query, operationName });
      expect(response.http.status, query).toBe(400);
    }
    expect(received).toEqual([]);
  });

  it("a subscription, which no subgraph serves, is HTTP 400", async () => {
    const result = await run("subscription { echo }");
    expect(result.status).toBe(400);
    expect(result.errors).toEqual([
      {
        message: "This service does not serve subscription operations.",
        extensions: { code: "GRAPHQL_VALIDATION_FAILED" },
        locations: [{ line: 1, column: 1 }],
      },
    ]);
  });
});
