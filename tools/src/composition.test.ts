/**
 * schema/api.graphql, the client-facing schema `pnpm compose` writes: the supergraph without
 * its federation machinery, descriptions kept, exactly what the gateway answers to
 * introspection; and the staleness check `pnpm compose --check` and `pnpm check:generated` run.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@nexus/core";
import { loadConfig, type RunningGateway, startGateway } from "@nexus/gateway";
import { testRedisPrefix } from "@nexus/testing";
import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  type IntrospectionQuery,
  isEnumType,
  isObjectType,
  parse,
  printSchema,
  visit,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CompositionError,
  generatedSchemas,
  printApiSchema,
  SCHEMA_DIR,
  staleSchemaFiles,
} from "./composition.ts";
import { SUPERGRAPH_PATH } from "./subgraphs.ts";

const API_PATH = join(SCHEMA_DIR, "api.graphql");
const supergraphSdl = readFileSync(SUPERGRAPH_PATH, "utf8");
const api = printApiSchema(supergraphSdl);

describe("the API schema", () => {
  it("has none of the supergraph's join__ and link__ machinery", () => {
    expect(supergraphSdl).toContain("join__");
    expect(api).not.toMatch(/join__|link__/);
    // Only graphql's own directives remain: no @link, @inaccessible or access directive.
    const directives = new Set<string>();
    visit(parse(api), {
      Directive: (node) => void directives.add(node.name.value),
      DirectiveDefinition: (node) => void directives.add(node.name.value),
    });
    expect([...directives].filter((name) => !["deprecated", "specifiedBy"].includes(name))).toEqual([]);
  });

  it("serves what clients query, with its descriptions", () => {
    const schema = buildSchema(api);
    const products = schema.getQueryType()?.getFields().products;
    expect(products).toBeDefined();
    expect(products?.description).toBeTruthy();
    const product = schema.getType("Product");
    expect(isObjectType(product) && product.description).toBeTruthy();
    // Fields contributed by other subgraphs are merged into one type, as clients see it.
    expect(isObjectType(product) && Object.keys(product.getFields())).toEqual(
      expect.arrayContaining(["name", "inventory", "frequentlyBoughtTogether"]),
    );
  });

  it("types every userError code as the documented UserErrorCode, each subgraph's codes merged", () => {
    const schema = buildSchema(api);
    const userError = schema.getType("UserError");
    expect(isObjectType(userError) && String(userError.getFields().code?.type)).toBe("UserErrorCode!");
    const codes = schema.getType("UserErrorCode");
    if (!isEnumType(codes)) throw new Error("UserErrorCode is not an enum");
    const values = codes.getValues();
    for (const value of values) expect(value.description, value.name).toBeTruthy();
    // One code from each subgraph: the union of what they return.
    expect(values.map((value) => value.name)).toEqual(
      expect.arrayContaining([
        "EMAIL_TAKEN",
        "DUPLICATE_SKU",
        "INSUFFICIENT_STOCK",
        "NEGATIVE_STOCK",
        "EVENT_NOT_FAILED",
        "TRANSACTIONAL_REQUIRED",
      ]),
    );
  });

  it("is what schema/api.graphql holds", () => {
    expect(readFileSync(API_PATH, "utf8")).toBe(api);
  });
});

describe("the gateway's introspection", () => {
  let gateway: RunningGateway;

  beforeAll(async () => {
    // The checked-in supergraph; introspection is answered by the gateway alone, so no
    // subgraph has to run.
    gateway = await startGateway(
      loadConfig({
        HOST: "127.0.0.1",
        GATEWAY_PORT: "0",
        LOG_LEVEL: "silent",
        GATEWAY_REDIS_PREFIX: testRedisPrefix("api-schema"),
        SUPERGRAPH_PATH,
      }),
      createLogger("api-schema-test", "silent"),
    );
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  it("answers exactly schema/api.graphql", async () => {
    const response = await fetch(gateway.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        query: getIntrospectionQuery({
          descriptions: true,
          specifiedByUrl: true,
          inputValueDeprecation: true,
        }),
      }),
    });
    const body = (await response.json()) as { data?: IntrospectionQuery; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    if (!body.data) throw new Error("no introspection data");
    expect(`${printSchema(buildClientSchema(body.data)).trimEnd()}\n`).toBe(readFileSync(API_PATH, "utf8"));
  });
});

describe("staleness", () => {
  const dir = mkdtempSync(join(tmpdir(), "nexus-composition-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const copySchemas = (name: string) => {
    const copy = join(dir, name);
    cpSync(SCHEMA_DIR, copy, { recursive: true });
    return copy;
  };

  it("finds nothing to report when both files are what `pnpm compose` writes", () => {
    const copy = copySchemas("current");
    const { files } = generatedSchemas(copy);
    writeFileSync(join(copy, "supergraph.graphql"), files["supergraph.graphql"]);
    writeFileSync(join(copy, "api.graphql"), files["api.graphql"]);
    expect(staleSchemaFiles(copy)).toEqual([]);
  });

  it("reports an API schema left behind by an SDL change", () => {
    const copy = copySchemas("stale");
    const catalog = join(copy, "catalog.graphql");
    const { files } = generatedSchemas(copy);
    writeFileSync(join(copy, "supergraph.graphql"), files["supergraph.graphql"]);
    writeFileSync(join(copy, "api.graphql"), files["api.graphql"]);
    writeFileSync(
      catalog,
      readFileSync(catalog, "utf8").replace(
        /type Query \{/,
        'type Query {\n  "A new field."\n  ping: String',
      ),
    );
    expect(staleSchemaFiles(copy)).toEqual([
      "schema/supergraph.graphql is stale: run `pnpm compose` and commit the result.",
      "schema/api.graphql is stale: run `pnpm compose` and commit the result.",
    ]);
  });

  it("reports a missing API schema", () => {
    const copy = copySchemas("missing");
    rmSync(join(copy, "api.graphql"), { force: true });
    expect(staleSchemaFiles(copy)).toContain(
      "schema/api.graphql is missing: run `pnpm compose` and commit the result.",
    );
  });

  it("throws every composition error at once", () => {
    const copy = copySchemas("broken");
    writeFileSync(join(copy, "orders.graphql"), "type Query { broken: Nope }\n");
    expect(() => generatedSchemas(copy)).toThrow(CompositionError);
  });
});
