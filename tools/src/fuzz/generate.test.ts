/**
 * The generator itself: every operation it makes is valid against the API schema and its
 * variables are valid for their types, so what the gateway refuses is the gateway's doing, not
 * the generator's; the same seed makes the same operation; and the hostile values, the
 * limits and both ways of passing arguments really occur.
 */
import { readFileSync } from "node:fs";
import {
  type DocumentNode,
  getOperationAST,
  Kind,
  parse,
  type SelectionSetNode,
  validate,
  visit,
} from "graphql";
import { getVariableValues } from "graphql/execution/values.js";
import { describe, expect, it } from "vitest";
import { apiSchemaOf } from "../composition.ts";
import { SUPERGRAPH_PATH } from "../subgraphs.ts";
import { createOperationGenerator, type FuzzOperation, GATEWAY_LIMITS } from "./generate.ts";
import { caseSeed, createRandom } from "./random.ts";
import { buildCase, readDemoPartnerManifest } from "./run.ts";
import { demoKnownValues } from "./values.ts";

const schema = apiSchemaOf(readFileSync(SUPERGRAPH_PATH, "utf8"));
const generator = createOperationGenerator(schema, demoKnownValues());
const operations: FuzzOperation[] = Array.from({ length: 3000 }, (_, index) =>
  generator.operation(createRandom(caseSeed(7, index))),
);

/** Depth as the gateway counts it (a root field is 1; no fragments are generated). */
function depthOf(selectionSet: SelectionSetNode): number {
  let deepest = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD)
      deepest = Math.max(deepest, 1 + (selection.selectionSet ? depthOf(selection.selectionSet) : 0));
    else if (selection.kind === Kind.INLINE_FRAGMENT)
      deepest = Math.max(deepest, depthOf(selection.selectionSet));
  }
  return deepest;
}

function aliasesOf(document: DocumentNode): number {
  let count = 0;
  visit(document, {
    Field(node) {
      if (node.alias) count += 1;
    },
  });
  return count;
}

describe("the operation generator", () => {
  it("makes only operations that validate against the API schema, with variables of the right types", () => {
    const problems: string[] = [];
    for (const operation of operations) {
      const document = parse(operation.document);
      const errors = validate(schema, document);
      const definition = getOperationAST(document, operation.operationName);
      const coerced = definition
        ? getVariableValues(schema, definition.variableDefinitions ?? [], operation.variables)
        : { errors: [new Error("no operation")] };
      for (const error of [...errors, ...(coerced.errors ?? [])])
        problems.push(`${error.message}\n${operation.document}`);
    }
    expect(problems.slice(0, 3)).toEqual([]);
  });

  it("makes the same operation from the same seed, and another from another", () => {
    const again = generator.operation(createRandom(caseSeed(7, 42)));
    expect(again).toEqual(operations[42]);
    expect(generator.operation(createRandom(caseSeed(8, 42)))).not.toEqual(operations[42]);
  });

  it("reaches every root field, queries and mutations", () => {
    const reached = new Set(operations.flatMap((operation) => operation.rootFields));
    const roots = [schema.getQueryType(), schema.getMutationType()].flatMap((type) =>
      Object.keys(type?.getFields() ?? {}),
    );
    expect(roots.filter((field) => !reached.has(field))).toEqual([]);
  });

  it("stays within the depth and alias limits, except for the few cases that test them", () => {
    const shapes = operations.map((operation) => {
      const document = parse(operation.document);
      const definition = getOperationAST(document);
      return { depth: definition ? depthOf(definition.selectionSet) : 0, aliases: aliasesOf(document) };
    });
    const over = shapes.filter(
      ({ depth, aliases }) => depth > GATEWAY_LIMITS.maxDepth || aliases > GATEWAY_LIMITS.maxAliases,
    );
    expect(over.length).toBeGreaterThan(0);
    expect(over.length / shapes.length).toBeLessThan(0.05);
    expect(shapes.some(({ depth }) => depth === GATEWAY_LIMITS.maxDepth)).toBe(true);
    expect(shapes.some(({ depth }) => depth === GATEWAY_LIMITS.maxDepth + 1)).toBe(true);
    expect(shapes.some(({ aliases }) => aliases > 20 && aliases <= GATEWAY_LIMITS.maxAliases)).toBe(true);
    expect(shapes.some(({ aliases }) => aliases === GATEWAY_LIMITS.maxAliases + 1)).toBe(true);
  });

  it("passes arguments inline, as variables, and both in one operation", () => {
    const inline = operations.filter((operation) => /\(\w+: [^$]/.test(operation.document));
    const variables = operations.filter((operation) => Object.keys(operation.variables).length > 0);
    const both = inline.filter((operation) => variables.includes(operation));
    expect(inline.length).toBeGreaterThan(300);
    expect(variables.length).toBeGreaterThan(300);
    expect(both.length).toBeGreaterThan(100);
  });

  it("sends hostile values: bounds, huge floats, control characters, odd unicode, ids of every shape", () => {
    const kinds = new Set(
      operations.flatMap((operation) => operation.values.map((value) => value.split(" = ")[1])),
    );
    for (const kind of [
      "int.max",
      "int.min",
      "string.empty",
      "string.long-20000",
      "string.nul",
      "string.control",
      "string.emoji",
      "string.rtl",
      "string.combining",
      "string.lone-high-surrogate",
      "null",
      "list.empty",
      "id.known-product",
      "id.objectid",
      "id.uuid",
      "id.number",
      "datetime.garbage",
      "cursor.base64-garbage",
    ])
      expect(kinds).toContain(kind);
    expect([...kinds].some((kind) => kind?.startsWith("enum."))).toBe(true);
  });

  it("keeps lone surrogates out of inline literals, where GraphQL's syntax cannot hold them", () => {
    const withSurrogate = operations.filter((operation) =>
      operation.values.some((v) => v.includes("surrogate")),
    );
    expect(withSurrogate.length).toBeGreaterThan(0);
    // Every operation parsed above; this one states why: a lone surrogate only travels in JSON.
    const lone = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
    expect(withSurrogate.filter((operation) => lone.test(operation.document))).toEqual([]);
  });

  it("makes partner cases from the partner's persisted operations, with valid variables", () => {
    const manifest = readDemoPartnerManifest();
    const partnerCases = Array.from({ length: 400 }, (_, index) =>
      buildCase(generator, manifest, 3, index),
    ).filter((fuzzCase) => fuzzCase.role === "partner" && fuzzCase.rootFields[0]?.startsWith("(persisted)"));
    expect(partnerCases.length).toBeGreaterThan(20);
    for (const fuzzCase of partnerCases) {
      const definition = getOperationAST(parse(fuzzCase.document ?? ""));
      const coerced = getVariableValues(schema, definition?.variableDefinitions ?? [], fuzzCase.variables);
      expect(coerced.errors ?? []).toEqual([]);
    }
  });
});
