/**
 * What a direct call to a subgraph gets: nothing. Subgraphs serve the gateway (and each other)
 * only, proven by a signature made with SUBGRAPH_SECRET; the gateway's limits, budgets,
 * safelists and client-address handling can therefore not be walked around. Tokens are still
 * verified by every subgraph (access.e2e.test.ts), and the JWKS and `/health` stay public.
 */
import { randomUUID } from "node:crypto";
import { subgraphAuthHeaders } from "@nexus/core";
import { graphql, graphqlOk } from "@nexus/tools/graphql-client";
import { type Stack, startStack } from "@nexus/tools/stack";
import { SUBGRAPHS } from "@nexus/tools/subgraphs";
import { DEMO_PARTNER } from "@nexus/users/demo";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";

const NOT_THE_SECRET = "a-secret-somebody-guessed-at-random-0";
let stack: Stack;

beforeAll(async () => {
  // As on a machine where nobody set NODE_ENV: Apollo would then add stack traces to errors.
  vi.stubEnv("NODE_ENV", undefined);
  stack = await startStack({ mongoUrl: inject("mongoUrl") });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  vi.unstubAllEnvs();
});

interface Answer {
  status: number;
  wwwAuthenticate: string | null;
  body: unknown;
}

async function call(
  url: string,
  body: string | undefined,
  headers: Record<string, string> = {},
  method = body === undefined ? "GET" : "POST",
): Promise<Answer> {
  const response = await fetch(url, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  const text = await response.text();
  return {
    status: response.status,
    wwwAuthenticate: response.headers.get("www-authenticate"),
    body: text === "" ? undefined : (JSON.parse(text) as unknown),
  };
}

const operation = (query: string, variables: Record<string, unknown> = {}) =>
  JSON.stringify({ query, variables });
const signedBy = (secrets: { current: string; previous?: string }, body = "") =>
  subgraphAuthHeaders(secrets, body);
const REFUSED: Answer = {
  status: 401,
  wwwAuthenticate: "NexusSignature",
  body: { error: "This service answers the gateway only." },
};

describe.each(SUBGRAPHS.map(({ name }) => [name] as const))("a direct call to %s", (name) => {
  const url = () => stack.subgraphUrls[name];

  it("without the gateway's signature gets 401 and nothing else: no data, no SDL, no schema", async () => {
    for (const query of [
      "{ __typename }",
      "{ _service { sdl } }",
      "{ __schema { types { name } } }",
      `{ _entities(representations: [{ __typename: "Product", id: "000000000000000000000000" }]) { __typename } }`,
      "{ nonsense }",
    ]) {
      expect(await call(url(), operation(query))).toEqual(REFUSED);
    }
    expect(await call(`${url()}?query=${encodeURIComponent("{ _service { sdl } }")}`, undefined)).toEqual(
      REFUSED,
    );
    expect(await call(url().replace(/\/graphql$/, "/anything"), "")).toEqual(REFUSED);
  });

  it("with a wrong secret, or a signature of another body, gets the same", async () => {
    const body = operation("{ _service { sdl } }");
    expect(await call(url(), body, signedBy({ current: NOT_THE_SECRET }, body))).toEqual(REFUSED);
    const captured = signedBy({ current: stack.subgraphSecret }, operation("{ __typename }"));
    expect(await call(url(), body, captured)).toEqual(REFUSED);
  });

  it("signed with the stack's secret is served, also by a caller rotating to a new secret", async () => {
    const body = operation("{ _service { sdl } }");
    for (const secrets of [
      { current: stack.subgraphSecret },
      { current: NOT_THE_SECRET, previous: stack.subgraphSecret },
    ]) {
      const answer = await call(url(), body, signedBy(secrets, body));
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({
        data: { _service: { sdl: expect.stringContaining("type Query") } },
      });
    }
  });

  it("answers errors without a stack trace, though NODE_ENV is unset", async () => {
    expect(process.env.NODE_ENV).toBeUndefined();
    const body = operation("{ nonsense }");
    const answer = await call(url(), body, signedBy({ current: stack.subgraphSecret }, body));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ errors: [{ extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }] });
    expect(JSON.stringify(answer.body)).not.toContain("stacktrace");
  });

  it("keeps /health open to probes", async () => {
    const health = await call(url().replace(/\/graphql$/, "/health"), undefined);
    expect(health).toEqual({ status: 200, wwwAuthenticate: null, body: { status: "ok" } });
  });
});

describe("the users subgraph", () => {
  const usersUrl = (path: string) => stack.subgraphUrls.users.replace(/\/graphql$/, path);

  it("serves its JWKS to anyone: public keys are how every service verifies tokens", async () => {
    const jwks = await call(usersUrl("/.well-known/jwks.json"), undefined);
    expect(jwks.status).toBe(200);
    expect(jwks.body).toMatchObject({ keys: [{ kty: "EC", crv: "P-256" }] });
  });

  it("exchanges partner API keys for the gateway only", async () => {
    const exchange = (headers: Record<string, string>) =>
      call(usersUrl("/auth/partner-token"), "", { "x-api-key": DEMO_PARTNER.apiKey, ...headers }, "POST");
    expect(await exchange({})).toEqual(REFUSED);
    expect(await exchange(signedBy({ current: NOT_THE_SECRET }))).toEqual(REFUSED);
    const token = await exchange(signedBy({ current: stack.subgraphSecret }));
    expect(token.status).toBe(200);
    expect(token.body).toMatchObject({
      accessToken: expect.stringMatching(/^ey/),
      client: { name: DEMO_PARTNER.name },
    });
  });

  it("counts failed logins per real client address, whatever x-forwarded-for claims", async () => {
    const LOGIN =
      "mutation ($input: LoginInput!) { login(input: $input) { accessToken userErrors { code } } }";
    // Straight to the subgraph, 25 spoofed addresses: refused before any login is tried.
    for (let i = 0; i < 25; i += 1) {
      const body = operation(LOGIN, { input: { email: `nobody-${i}@example.com`, password: "wrong" } });
      expect(await call(stack.subgraphUrls.users, body, { "x-forwarded-for": `198.51.100.${i}` })).toEqual(
        REFUSED,
      );
    }
    // Through the gateway, which trusts no proxy here: the 21st failure from one address is throttled.
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 25; i += 1) {
      const { body } = await graphql<{ login: { userErrors: { code: string }[] } }>(
        stack.endpoint,
        LOGIN,
        { input: { email: `nobody-${randomUUID()}@example.com`, password: "wrong" } },
        { "x-forwarded-for": `203.0.113.${i}` },
      );
      codes.push(body.data?.login.userErrors[0]?.code);
    }
    expect(codes.slice(0, 20)).toEqual(Array(20).fill("INVALID_CREDENTIALS"));
    expect(codes.slice(20)).toEqual(Array(5).fill("RATE_LIMITED"));
  });
});

describe("the stack through the gateway", () => {
  it("still serves every subgraph, partner keys included", async () => {
    const products = await graphqlOk<{
      products: { edges: { node: { name: string; inventory: unknown } }[] };
    }>(stack.endpoint, "{ products(first: 2) { edges { node { name inventory { available } } } } }");
    expect(products.products.edges).toHaveLength(2);
    const { status } = await graphql(
      stack.endpoint,
      "{ __typename }",
      {},
      { "x-api-key": DEMO_PARTNER.apiKey },
    );
    // The key was exchanged (an unknown one is 401): the partner's freeform operation then meets its safelist.
    expect(status).toBe(403);
  });

  it("reports every subgraph ready, the gateway's signature accepted", async () => {
    const ready = await call(stack.endpoint.replace(/\/graphql$/, "/ready"), undefined);
    expect(ready).toMatchObject({
      status: 200,
      body: { status: "ok", subgraphs: Object.fromEntries(SUBGRAPHS.map(({ name }) => [name, "ok"])) },
    });
  });
});
