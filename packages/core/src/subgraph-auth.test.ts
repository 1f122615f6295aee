import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApolloServer } from "@apollo/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ConfigError, loadConfigFrom } from "./config-schema.ts";
import { type RunningHttpServer, requestMeta, sendJson, startHttpServer } from "./http.ts";
import { createLogger } from "./logger.ts";
import { serviceConfigSchema } from "./service-config.ts";
import {
  createSubgraphAuthenticator,
  loadSubgraphSecrets,
  SUBGRAPH_SIGNATURE_HEADER,
  type SubgraphSecrets,
  signSubgraphRequest,
  subgraphAuthHeaders,
  verifySubgraphSignature,
} from "./subgraph-auth.ts";

const logger = createLogger("test", "silent");
const OLD = "old-secret-old-secret-old-secret-0";
const NEW = "new-secret-new-secret-new-secret-1";
const OTHER = "someone-else-someone-else-someone-2";
const BODY = '{"query":"{ me { id } }"}';

describe("subgraph request signatures", () => {
  const now = Date.UTC(2026, 0, 1);

  it("accept a fresh signature of the same body by the same secret", () => {
    const header = signSubgraphRequest({ current: NEW }, BODY, now);
    expect(header).toMatch(/^t=\d+,v1=[\w-]{43}$/);
    expect(verifySubgraphSignature({ current: NEW }, header, BODY, now + 1000)).toBe(true);
  });

  it("refuse a missing, wrong, foreign or malformed signature", () => {
    const header = signSubgraphRequest({ current: OTHER }, BODY, now);
    expect(verifySubgraphSignature({ current: NEW }, header, BODY, now)).toBe(false);
    expect(verifySubgraphSignature({ current: NEW }, undefined, BODY, now)).toBe(false);
    expect(verifySubgraphSignature({ current: NEW }, NEW, BODY, now)).toBe(false);
    expect(verifySubgraphSignature({ current: NEW }, `t=${now / 1000}`, BODY, now)).toBe(false);
    expect(verifySubgraphSignature({ current: NEW }, `t=${now / 1000},v1=`, BODY, now)).toBe(false);
  });

  it("bind the body: a captured header cannot carry another operation", () => {
    const header = signSubgraphRequest({ current: NEW }, BODY, now);
    expect(verifySubgraphSignature({ current: NEW }, header, '{"query":"{ users { email } }"}', now)).toBe(
      false,
    );
  });

  it("expire: a captured header is good for a minute either way, no longer", () => {
    const header = signSubgraphRequest({ current: NEW }, BODY, now);
    expect(verifySubgraphSignature({ current: NEW }, header, BODY, now + 60_000)).toBe(true);
    expect(verifySubgraphSignature({ current: NEW }, header, BODY, now + 61_000)).toBe(false);
    expect(verifySubgraphSignature({ current: NEW }, header, BODY, now - 61_000)).toBe(false);
  });

  it("rotate without downtime: old and new callers and subgraphs all understand each other", () => {
    const before: SubgraphSecrets = { current: OLD };
    const during: SubgraphSecrets = { current: NEW, previous: OLD };
    const after: SubgraphSecrets = { current: NEW };
    const pairs: [SubgraphSecrets, SubgraphSecrets][] = [
      [before, during],
      [during, before],
      [during, during],
      [during, after],
      [after, during],
    ];
    for (const [caller, subgraph] of pairs) {
      const header = signSubgraphRequest(caller, BODY, now);
      expect(verifySubgraphSignature(subgraph, header, BODY, now)).toBe(true);
    }
    // Once the old secret is gone, what it signs is refused.
    expect(verifySubgraphSignature(after, signSubgraphRequest(before, BODY, now), BODY, now)).toBe(false);
    expect(
      verifySubgraphSignature(
        { current: OTHER, previous: OLD },
        signSubgraphRequest(after, BODY, now),
        BODY,
        now,
      ),
    ).toBe(false);
  });
});

describe("serviceConfigSchema: subgraph secrets and host", () => {
  const read = (env: Record<string, string>) => loadConfigFrom(serviceConfigSchema("orders", 4003), env);
  const problemsOf = (env: Record<string, string>) => {
    try {
      read(env);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  };

  it("listens on loopback unless HOST says otherwise", () => {
    expect(read({}).host).toBe("127.0.0.1");
    expect(read({ HOST: "0.0.0.0" }).host).toBe("0.0.0.0");
  });

  it("requires SUBGRAPH_SECRET in production, and never repeats a secret in a problem", () => {
    expect(problemsOf({ NODE_ENV: "production" })).toEqual([
      "SUBGRAPH_SECRET is required when NODE_ENV=production (generate one: openssl rand -base64 32)",
    ]);
    expect(read({ NODE_ENV: "production", SUBGRAPH_SECRET: NEW })).toMatchObject({
      subgraphSecret: NEW,
      subgraphSecretPrevious: undefined,
    });
    const problems = problemsOf({ SUBGRAPH_SECRET: "short-secret", SUBGRAPH_SECRET_PREVIOUS: "tiny" });
    expect(problems).toEqual([
      "SUBGRAPH_SECRET must be at least 32 characters long",
      "SUBGRAPH_SECRET_PREVIOUS must be at least 32 characters long",
    ]);
    expect(problemsOf({ SUBGRAPH_SECRET_PREVIOUS: OLD })).toEqual([
      "SUBGRAPH_SECRET_PREVIOUS is set without SUBGRAPH_SECRET",
    ]);
  });
});

describe("logging", () => {
  it("never writes a secret or a signature, whatever the field is called", () => {
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const config = loadConfigFrom(serviceConfigSchema("users", 4001), { SUBGRAPH_SECRET: NEW });
      createLogger("test", "info").info("starting", {
        config,
        headers: { [SUBGRAPH_SIGNATURE_HEADER]: signSubgraphRequest({ current: NEW }, BODY) },
        subgraphSecretPrevious: OLD,
      });
    } finally {
      write.mockRestore();
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(NEW);
    expect(lines[0]).not.toContain(OLD);
    expect(lines[0]).not.toContain("v1=");
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({
      config: { subgraphSecret: "[redacted]", port: 4001 },
      headers: { [SUBGRAPH_SIGNATURE_HEADER]: "[redacted]" },
    });
  });
});

describe("loadSubgraphSecrets", () => {
  const dir = mkdtempSync(join(tmpdir(), "nexus-subgraph-secret-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("uses the configured secrets as they are", async () => {
    const config = { production: true, subgraphSecret: NEW, subgraphSecretPrevious: OLD };
    expect(await loadSubgraphSecrets(config, logger, join(dir, "unused"))).toEqual({
      current: NEW,
      previous: OLD,
    });
  });

  it("generates one secret on first start that services started side by side all share", async () => {
    const path = join(dir, "nested", "subgraph-secret");
    const config = { production: false, subgraphSecret: undefined, subgraphSecretPrevious: undefined };
    const loaded = await Promise.all(
      Array.from({ length: 8 }, () => loadSubgraphSecrets(config, logger, path)),
    );
    const [first] = loaded;
    expect(first?.current).toMatch(/^[\w-]{43}$/);
    for (const secrets of loaded) expect(secrets).toEqual({ current: first?.current });
    expect(readFileSync(path, "utf8").trim()).toBe(first?.current);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await loadSubgraphSecrets(config, logger, path)).toEqual(first);
  });

  it("never generates one in production", async () => {
    const config = { production: true, subgraphSecret: undefined, subgraphSecretPrevious: undefined };
    await expect(loadSubgraphSecrets(config, logger, join(dir, "prod"))).rejects.toThrow(
      "SUBGRAPH_SECRET is required when NODE_ENV=production.",
    );
  });
});

describe("an HTTP server that authenticates its callers", () => {
  const secrets: SubgraphSecrets = { current: NEW, previous: OLD };
  const seenAddresses: (string | undefined)[] = [];
  let server: RunningHttpServer;
  let origin = "";

  beforeAll(async () => {
    server = await startHttpServer({
      apollo: new ApolloServer({
        typeDefs: "type Query { secret: String }",
        resolvers: { Query: { secret: () => "data" } },
      }),
      host: "127.0.0.1",
      port: 0,
      logger,
      authenticate: createSubgraphAuthenticator(secrets),
      context: async (req) => {
        seenAddresses.push(requestMeta(req).clientIp);
        return {};
      },
      routes: { "POST /private": (_req, res, body) => sendJson(res, 200, { private: true, body }) },
      publicRoutes: { "GET /public": (_req, res) => sendJson(res, 200, { public: true }) },
    });
    origin = new URL(server.url).origin;
  });
  afterAll(() => server?.close());

  const call = async (path: string, body: string | undefined, headers: Record<string, string> = {}) => {
    const response = await fetch(`${origin}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    });
    return { status: response.status, text: await response.text() };
  };
  const query = (text: string) => JSON.stringify({ query: text });

  it("answers an unsigned caller 401 and nothing else, whatever it asks", async () => {
    for (const [path, body] of [
      ["/graphql", query("{ secret }")],
      ["/graphql", query("{ __schema { types { name } } }")],
      ["/graphql", undefined],
      ["/private", ""],
      ["/nowhere", ""],
    ] as const) {
      const { status, text } = await call(path, body);
      expect(status).toBe(401);
      expect(JSON.parse(text)).toEqual({ error: "This service answers the gateway only." });
    }
  });

  it("serves a caller that signs with the current or the previous secret", async () => {
    for (const caller of [{ current: NEW }, { current: OLD }]) {
      const body = query("{ secret }");
      const { status, text } = await call("/graphql", body, subgraphAuthHeaders(caller, body));
      expect(status).toBe(200);
      expect(JSON.parse(text)).toEqual({ data: { secret: "data" } });
    }
    const { status, text } = await call("/private", "payload", subgraphAuthHeaders(secrets, "payload"));
    expect({ status, body: JSON.parse(text) }).toEqual({
      status: 200,
      body: { private: true, body: "payload" },
    });
  });

  it("refuses a wrong secret, and a signature of another body", async () => {
    const body = query("{ secret }");
    expect((await call("/graphql", body, subgraphAuthHeaders({ current: OTHER }, body))).status).toBe(401);
    const other = subgraphAuthHeaders(secrets, query("{ __typename }"));
    expect((await call("/graphql", body, other)).status).toBe(401);
  });

  it("keeps /health and public routes open, but tells a signer whose signature fails", async () => {
    expect(await call("/health", undefined)).toEqual({ status: 200, text: '{"status":"ok"}' });
    expect((await call("/public", undefined)).status).toBe(200);
    expect((await call("/health", undefined, subgraphAuthHeaders(secrets))).status).toBe(200);
    expect((await call("/health", undefined, subgraphAuthHeaders({ current: OTHER }))).status).toBe(401);
  });

  it("believes x-forwarded-for only from an authenticated caller", async () => {
    seenAddresses.length = 0;
    const body = query("{ secret }");
    await call("/graphql", body, { ...subgraphAuthHeaders(secrets, body), "x-forwarded-for": "203.0.113.7" });
    expect(seenAddresses).toEqual(["203.0.113.7"]);
    const spoofed = await call("/graphql", body, {
      [SUBGRAPH_SIGNATURE_HEADER]: "t=1,v1=forged",
      "x-forwarded-for": "198.51.100.1",
    });
    expect(spoofed.status).toBe(401);
    expect(seenAddresses).toEqual(["203.0.113.7"]);
  });

  it("takes the connection's peer as the client when nobody authenticated the caller", async () => {
    const seen: (string | undefined)[] = [];
    const open = await startHttpServer({
      apollo: new ApolloServer({ typeDefs: "type Query { a: Int }" }),
      host: "127.0.0.1",
      port: 0,
      logger,
      context: async (req) => {
        seen.push(requestMeta(req).clientIp);
        return {};
      },
    });
    try {
      await fetch(open.url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": "198.51.100.1" },
        body: query("{ a }"),
      });
    } finally {
      await open.close();
    }
    expect(seen).toEqual(["127.0.0.1"]);
  });
});
