/**
 * GraphiQL as the gateway serves it, over HTTP, in front of the checked-in supergraph (no
 * subgraph needs to run: the page, its assets and introspection are all the gateway's own).
 * The page's own operations and every preloaded example are validated against the schema the
 * gateway serves, and every example is priced as the gateway prices it (within MAX_COST), so a
 * schema change that breaks one fails here. In a browser: the e2e test
 * e2e/src/graphiql.e2e.test.ts.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { createLogger } from "@nexus/core";
import { testRedisPrefix } from "@nexus/testing";
import {
  buildClientSchema,
  getIntrospectionQuery,
  type IntrospectionQuery,
  isNonNullType,
  Kind,
  parse,
  validate,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../app.ts";
import { loadConfig } from "../config.ts";
import { estimateCost, readCostDirectives } from "../operation/cost/cost.ts";
import {
  GRAPHIQL_CSP,
  type GraphiqlPageConfig,
  readGraphiqlAuthDocument,
  readGraphiqlExamples,
} from "./graphiql.ts";

const logger = createLogger("graphiql-test", "silent");
const env = { HOST: "127.0.0.1", GATEWAY_PORT: "0", LOG_LEVEL: "silent" };
const require = createRequire(import.meta.url);
const installed = (name: string, file: string) =>
  readFileSync(join(dirname(require.resolve(`${name}/package.json`)), file));

let gateway: RunningGateway;
let admin: RunningGateway;
const origin = (running: RunningGateway) => running.url.replace(/\/graphql$/, "");

beforeAll(async () => {
  gateway = await startGateway(
    loadConfig({ ...env, GATEWAY_REDIS_PREFIX: testRedisPrefix("graphiql") }),
    logger,
  );
  admin = await startGateway(
    loadConfig({ ...env, GRAPHIQL: "admin", GATEWAY_REDIS_PREFIX: testRedisPrefix("graphiql-admin") }),
    logger,
  );
});

afterAll(async () => {
  await gateway?.stop();
  await admin?.stop();
});

interface Page {
  response: Response;
  html: string;
  config: GraphiqlPageConfig;
  /** Every src and href of the page, in order, but the empty data: favicon. */
  links: string[];
}

async function openPage(running: RunningGateway): Promise<Page> {
  const response = await fetch(`${origin(running)}/graphiql`);
  const html = await response.text();
  const attribute = /data-config="([^"]*)"/.exec(html)?.[1];
  if (attribute === undefined) throw new Error("the page has no data-config");
  const config = JSON.parse(
    attribute
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&amp;/g, "&"),
  ) as GraphiqlPageConfig;
  const links = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)]
    .map((match) => match[1] ?? "")
    .filter((link) => link !== "data:,");
  return { response, html, config, links };
}

describe("GET /graphiql", () => {
  it("serves the page with a self-only Content-Security-Policy, never cached stale", async () => {
    const { response, html } = await openPage(gateway);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("content-security-policy")).toBe(GRAPHIQL_CSP);
    expect(GRAPHIQL_CSP).toContain("script-src 'self';");
    expect(GRAPHIQL_CSP).not.toMatch(/unsafe|https?:|\*/);
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(html).not.toContain("{{");
    // No inline script: every script element loads a file of the gateway.
    for (const [, attributes = ""] of html.matchAll(/<script([^>]*)>/g))
      expect(attributes).toMatch(/\ssrc="/);
  });

  it("loads only files of the gateway, by paths relative to the page", async () => {
    const { links } = await openPage(gateway);
    expect(links).toHaveLength(6);
    for (const link of links) expect(link).toMatch(/^graphiql\/[\w-]+\.[0-9a-f]{12}\.(js|css)$/);
  });

  it("tells the page its mode, the endpoint, its sign-in operations and the examples", async () => {
    const { config } = await openPage(gateway);
    expect(config).toEqual({
      mode: "on",
      endpoint: "graphql",
      authDocument: readGraphiqlAuthDocument(),
      examples: readGraphiqlExamples(),
    });
    expect(config.examples.length).toBeGreaterThanOrEqual(4);
    expect((await openPage(admin)).config.mode).toBe("admin");
  });

  it("sends /graphiql/ to /graphiql, where the relative paths resolve", async () => {
    const response = await fetch(`${origin(gateway)}/graphiql/`, { redirect: "manual" });
    expect(response.status).toBe(308);
    expect(new URL(response.headers.get("location") ?? "", response.url).pathname).toBe("/graphiql");
  });
});

describe("GraphiQL's assets", () => {
  const expected: Record<string, Buffer> = {
    react: installed("react", "umd/react.production.min.js"),
    "react-dom": installed("react-dom", "umd/react-dom.production.min.js"),
    graphiql: installed("graphiql", "graphiql.min.js"),
  };

  it("are the installed UMD builds, with their content type and a year of immutable caching", async () => {
    const { links } = await openPage(gateway);
    for (const link of links) {
      const response = await fetch(`${origin(gateway)}/${link}`, {
        headers: { "accept-encoding": "identity" },
      });
      expect(response.status, link).toBe(200);
      expect(response.headers.get("content-type"), link).toBe(
        link.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8",
      );
      expect(response.headers.get("cache-control"), link).toBe("public, max-age=31536000, immutable");
      expect(response.headers.get("content-encoding"), link).toBeNull();
      const name = /^graphiql\/([\w-]+)\./.exec(link)?.[1] ?? "";
      const body = Buffer.from(await response.arrayBuffer());
      if (link.endsWith(".js") && expected[name]) expect(body.equals(expected[name]), link).toBe(true);
    }
  });

  it("are sent gzipped to clients that accept it", async () => {
    const { links } = await openPage(gateway);
    const script = links.find((link) => /^graphiql\/graphiql\.\w+\.js$/.test(link));
    // Node's fetch would decompress on its own; a raw request shows what is on the wire.
    const { request } = await import("node:http");
    const { headers, body } = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>(
      (resolve, reject) => {
        request(`${origin(gateway)}/${script}`, { headers: { "accept-encoding": "gzip, br" } }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        })
          .on("error", reject)
          .end();
      },
    );
    expect(headers["content-encoding"]).toBe("gzip");
    expect(headers.vary).toBe("accept-encoding");
    expect(body.length).toBeLessThan((expected.graphiql?.length ?? 0) / 3);
    expect(gunzipSync(body).equals(expected.graphiql ?? Buffer.alloc(0))).toBe(true);
  });

  it("answer 404 at any other path", async () => {
    for (const path of ["/graphiql/graphiql.min.js", "/graphiql/page.js", "/graphiql/../package.json"]) {
      expect((await fetch(`${origin(gateway)}${path}`)).status, path).toBe(404);
    }
  });
});

describe("the operations GraphiQL sends", () => {
  let schema: ReturnType<typeof buildClientSchema>;
  // The default limit, and the supergraph's @cost/@listSize the gateway prices operations with.
  const { limits, supergraphSdl } = loadConfig(env);
  const costDirectives = readCostDirectives(parse(supergraphSdl));

  beforeAll(async () => {
    // The API schema exactly as GraphiQL gets it: introspected from the gateway.
    const response = await fetch(gateway.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: getIntrospectionQuery() }),
    });
    const { data } = (await response.json()) as { data: IntrospectionQuery };
    schema = buildClientSchema(data);
  });

  it.each(
    readGraphiqlExamples().map((example) => [example.query.match(/(?:query|mutation) (\w+)/)?.[1], example]),
  )("example %s is valid against the supergraph and runs as it is", (_name, example) => {
    const document = parse(example.query);
    expect(validate(schema, document).map((error) => error.message)).toEqual([]);
    // Priced with its variables' defaults, as a run without variables is.
    expect(estimateCost(schema, costDirectives, document, undefined)).toBeLessThanOrEqual(limits.maxCost);
    const operations = document.definitions.filter(
      (definition) => definition.kind === Kind.OPERATION_DEFINITION,
    );
    expect(operations).toHaveLength(1);
    // A named operation (the tab's title) whose required variables all have defaults.
    for (const operation of operations) {
      expect(operation.name?.value).toBeTruthy();
      for (const variable of operation.variableDefinitions ?? []) {
        expect(isNonNullType(variable.type) && !variable.defaultValue, variable.variable.name.value).toBe(
          false,
        );
      }
    }
  });

  it("the sign-in, refresh and sign-out are valid against the supergraph", () => {
    const document = parse(readGraphiqlAuthDocument());
    expect(validate(schema, document).map((error) => error.message)).toEqual([]);
    expect(
      document.definitions.flatMap((definition) =>
        definition.kind === Kind.OPERATION_DEFINITION ? [definition.name?.value] : [],
      ),
    ).toEqual(["GraphiqlSignIn", "GraphiqlRefresh", "GraphiqlSignOut"]);
  });
});

describe("GRAPHIQL=off", () => {
  it("serves no page and no asset", async () => {
    const off = await startGateway(
      loadConfig({ ...env, GRAPHIQL: "off", GATEWAY_REDIS_PREFIX: testRedisPrefix("graphiql-off") }),
      logger,
    );
    try {
      const { links } = await openPage(gateway);
      for (const path of ["/graphiql", "/graphiql/", ...links.map((link) => `/${link}`)]) {
        expect((await fetch(`${origin(off)}${path}`)).status, path).toBe(404);
      }
    } finally {
      await off.stop();
    }
  });
});
