import { createHash } from "node:crypto";
import type { PersistedOperation } from "@nexus/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestEnv, type TestEnv } from "../test-env.ts";
import {
  exchangeApiKey,
  parseUsageReport,
  readPartnerManifest,
  recordOperationUsage,
} from "./partner.service.ts";

const operation = (name: string, body: string): PersistedOperation => ({
  id: createHash("sha256").update(body).digest("hex"),
  name,
  type: "query",
  body,
});
const FEED = operation("Feed", "query Feed {\n  productFeed {\n    totalCount\n  }\n}");
const STATUS = operation("Status", "query Status($id: ID!) {\n  orderStatus(id: $id) {\n    status\n  }\n}");

let h: TestEnv;
beforeAll(async () => {
  h = await createTestEnv({
    manifests: new Map([
      [
        "acme",
        new Map([
          [STATUS.id, STATUS],
          [FEED.id, FEED],
        ]),
      ],
    ]),
  });
});
afterAll(() => h?.close());
beforeEach(() => h.reset());

const MANIFEST = `query ($clientId: ID, $days: Int) {
  partnerManifest(clientId: $clientId, days: $days) {
    client { id name }
    usageSince
    operations { id name type body requests errors lastUsedAt }
  }
}`;
const CREATE = `mutation ($input: CreatePartnerClientInput!) {
  createPartnerClient(input: $input) { apiKey client { id } }
}`;

interface Partner {
  id: string;
  authorization: string;
}

async function partner(name: string, admin: string): Promise<Partner> {
  const result = await h.run(CREATE, { input: { name } }, { authorization: admin });
  const { apiKey, client } = (
    result.data as { createPartnerClient: { apiKey: string; client: { id: string } } }
  ).createPartnerClient;
  const token = await exchangeApiKey(h.pg.db, h.signer, apiKey, 300);
  return { id: client.id, authorization: `Bearer ${token?.accessToken}` };
}

const today = new Date().toISOString().slice(0, 10);
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);

function report(entries: Record<string, unknown>[]) {
  const parsed = parseUsageReport({ entries });
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.entries;
}

describe("partnerManifest", () => {
  it("shows a partner its own operations by name, with usage summed over the window", async () => {
    const admin = (await h.admin("manifest-admin@example.com")).authorization;
    const acme = await partner("acme", admin);
    const lastUsedAt = new Date();
    await recordOperationUsage(
      h.pg.db,
      report([
        {
          client: "acme",
          operationId: FEED.id,
          day: today,
          requests: 5,
          errors: 1,
          lastUsedAt: lastUsedAt.toISOString(),
        },
        {
          client: "acme",
          operationId: FEED.id,
          day: daysAgo(3),
          requests: 7,
          errors: 0,
          lastUsedAt: `${daysAgo(3)}T12:00:00Z`,
        },
        // Outside a 7-day window.
        {
          client: "acme",
          operationId: FEED.id,
          day: daysAgo(30),
          requests: 100,
          errors: 100,
          lastUsedAt: `${daysAgo(30)}T12:00:00Z`,
        },
        // A client that does not exist is dropped, not an error.
        {
          client: "nobody",
          operationId: FEED.id,
          day: today,
          requests: 1,
          errors: 0,
          lastUsedAt: lastUsedAt.toISOString(),
        },
      ]),
    );
    // A second report for the same day adds up.
    await recordOperationUsage(
      h.pg.db,
      report([
        {
          client: "acme",
          operationId: FEED.id,
          day: today,
          requests: 2,
          errors: 2,
          lastUsedAt: `${daysAgo(1)}T00:00:00Z`,
        },
      ]),
    );

    const result = await h.run(MANIFEST, {}, { authorization: acme.authorization });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      partnerManifest: {
        client: { id: acme.id, name: "acme" },
        usageSince: `${daysAgo(6)}T00:00:00.000Z`,
        operations: [
          { ...FEED, requests: 14, errors: 3, lastUsedAt: lastUsedAt.toISOString() },
          { ...STATUS, requests: 0, errors: 0, lastUsedAt: null },
        ],
      },
    });
    const month = await h.run(MANIFEST, { days: 31 }, { authorization: acme.authorization });
    expect(month.data).toMatchObject({
      partnerManifest: { operations: [{ requests: 114, errors: 103 }, {}] },
    });
    expect(await h.pg.db.selectFrom("partner_operation_usage").select("client_id").execute()).toHaveLength(3);
  });

  it("lets staff read any client's by id, and a client without a manifest has no operations", async () => {
    const admin = (await h.admin("manifest-admin2@example.com")).authorization;
    const acme = await partner("acme", admin);
    const other = await partner("other-co", admin);
    const asStaff = await h.run(MANIFEST, { clientId: acme.id }, { authorization: admin });
    expect(asStaff.data).toMatchObject({
      partnerManifest: { client: { name: "acme" }, operations: [{}, {}] },
    });
    const empty = await h.run(MANIFEST, { clientId: other.id }, { authorization: admin });
    expect(empty.data).toMatchObject({ partnerManifest: { client: { name: "other-co" }, operations: [] } });
    for (const clientId of ["00000000-0000-4000-8000-000000000000", "nope"]) {
      const unknown = await h.run(MANIFEST, { clientId }, { authorization: admin });
      expect(unknown).toMatchObject({ data: { partnerManifest: null } });
      expect(unknown.errors).toBeUndefined();
    }
  });

  it("refuses anyone else, a partner naming another client, staff naming none, and a bad window", async () => {
    const admin = (await h.admin("manifest-admin3@example.com")).authorization;
    const acme = await partner("acme", admin);
    const other = await partner("other-co", admin);
    const { accessToken } = await h.register("shopper@example.com");
    const code = async (variables: Record<string, unknown>, authorization?: string) =>
      (await h.run(MANIFEST, variables, authorization ? { authorization } : {})).errors?.map((error) => [
        error.extensions?.code,
        error.message,
      ]);

    expect(await code({})).toEqual([["UNAUTHENTICATED", expect.any(String)]]);
    expect(await code({}, `Bearer ${accessToken}`)).toEqual([
      ["FORBIDDEN", "Only a partner, or staff with partners:manage, reads a partner manifest."],
    ]);
    expect(await code({ clientId: other.id }, acme.authorization)).toEqual([
      ["FORBIDDEN", "A partner reads its own manifest only: leave clientId out."],
    ]);
    expect(await code({ clientId: acme.id }, acme.authorization)).toBeUndefined();
    expect(await code({}, admin)).toEqual([["BAD_USER_INPUT", "Name the partner client to read: clientId."]]);
    for (const days of [0, 91, -1]) {
      expect(await code({ days }, acme.authorization)).toEqual([["BAD_USER_INPUT", "days must be 1 to 90."]]);
    }
  });

  it("shows a count past GraphQL's Int as the largest Int", async () => {
    const admin = (await h.admin("manifest-admin5@example.com")).authorization;
    const acme = await partner("acme", admin);
    const big = { client: "acme", operationId: STATUS.id, requests: 2 ** 31 - 1, errors: 0 };
    const at = new Date().toISOString();
    await recordOperationUsage(
      h.pg.db,
      report([
        { ...big, day: today, lastUsedAt: at },
        { ...big, day: daysAgo(1), lastUsedAt: at },
      ]),
    );
    const result = await h.run(MANIFEST, {}, { authorization: acme.authorization });
    expect(result.errors).toBeUndefined();
    expect(result.data).toMatchObject({ partnerManifest: { operations: [{}, { requests: 2 ** 31 - 1 }] } });
  });

  it("counts the window in UTC days, today included", async () => {
    const admin = (await h.admin("manifest-admin4@example.com")).authorization;
    const acme = await partner("acme", admin);
    const viewer = {
      userId: acme.id,
      role: "PARTNER" as const,
      scopes: [],
      tokenId: "t",
      clientName: "acme",
    };
    const now = new Date("2026-05-10T23:59:00Z");
    const manifest = await readPartnerManifest(
      { db: h.pg.db, manifests: h.deps.manifests },
      viewer,
      { days: 1 },
      now,
    );
    expect(manifest?.usageSince.toISOString()).toBe("2026-05-10T00:00:00.000Z");
  });
});

describe("the gateway's usage report", () => {
  const good = {
    client: "acme",
    operationId: FEED.id,
    day: today,
    requests: 2,
    errors: 1,
    lastUsedAt: new Date().toISOString(),
  };

  it("adds up entries for the same client, operation and day", () => {
    expect(parseUsageReport({ entries: [good, { ...good, requests: 3, errors: 0 }] })).toMatchObject({
      ok: true,
      entries: [{ client: "acme", requests: 5, errors: 1 }],
    });
  });

  it("is refused whole, naming the first bad entry", () => {
    expect(parseUsageReport([])).toEqual({ ok: false, error: "expected { entries: [...] }" });
    expect(parseUsageReport({ entries: new Array(10_001).fill(good) })).toEqual({
      ok: false,
      error: "at most 10000 entries per report",
    });
    for (const bad of [
      { client: "a b" },
      { operationId: "abc" },
      { day: "2026-13-45" },
      { day: "yesterday" },
      { requests: -1 },
      { requests: 1.5 },
      { errors: 3 },
      { lastUsedAt: "later" },
      { lastUsedAt: undefined },
    ]) {
      const result = parseUsageReport({ entries: [good, { ...good, ...bad }] });
      expect(result.ok, JSON.stringify(bad)).toBe(false);
      expect(result).toMatchObject({ error: expect.stringMatching(/^entry 1 needs/) });
    }
  });
});
