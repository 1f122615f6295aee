import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestEnv, type TestEnv } from "../test-env.ts";
import { exchangeApiKey } from "./partner.service.ts";

let h: TestEnv;
beforeAll(async () => {
  h = await createTestEnv();
});
afterAll(() => h?.close());
beforeEach(() => h.reset());

const CREATE_CLIENT = `mutation ($input: CreatePartnerClientInput!) {
  createPartnerClient(input: $input) { apiKey client { id } userErrors { field code } }
}`;
const CREATE_KEY = `mutation ($input: CreatePartnerApiKeyInput!) {
  createPartnerApiKey(input: $input) {
    apiKey key { id prefix createdAt lastUsedAt revokedAt } userErrors { field code message }
  }
}`;
const REVOKE_KEY = `mutation ($input: RevokePartnerApiKeyInput!) {
  revokePartnerApiKey(input: $input) { key { id revokedAt } userErrors { field code } }
}`;
const REVOKE_CLIENT = `mutation ($input: RevokePartnerClientInput!) {
  revokePartnerClient(input: $input) { client { id revokedAt } userErrors { field code } }
}`;
const KEYS = `query ($includeRevoked: Boolean) {
  partnerClients(includeRevoked: true) {
    edges { node { name keyPrefix lastUsedAt apiKeys(includeRevoked: $includeRevoked) { id prefix createdAt lastUsedAt revokedAt } } }
  }
}`;

interface Key {
  id: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}
interface CreatedKey {
  apiKey: string | null;
  key: Key | null;
  userErrors: { field: string[]; code: string; message: string }[];
}

async function setUp(): Promise<{ admin: string; clientId: string; firstKey: string }> {
  const admin = (await h.admin("keys-admin@example.com")).authorization;
  const result = await h.run(CREATE_CLIENT, { input: { name: "rotating" } }, { authorization: admin });
  const created = (result.data as { createPartnerClient: { apiKey: string; client: { id: string } } })
    .createPartnerClient;
  return { admin, clientId: created.client.id, firstKey: created.apiKey };
}

async function createKey(admin: string, clientId: string): Promise<CreatedKey> {
  const result = await h.run(CREATE_KEY, { input: { clientId } }, { authorization: admin });
  expect(result.errors).toBeUndefined();
  return (result.data as { createPartnerApiKey: CreatedKey }).createPartnerApiKey;
}

async function keysOf(admin: string, includeRevoked = false): Promise<Key[]> {
  const result = await h.run(KEYS, { includeRevoked }, { authorization: admin });
  expect(result.errors).toBeUndefined();
  const edges = (result.data as { partnerClients: { edges: { node: { apiKeys: Key[] } }[] } }).partnerClients
    .edges;
  return edges[0]?.node.apiKeys ?? [];
}

const works = async (apiKey: string) => (await exchangeApiKey(h.pg.db, h.signer, apiKey, 300)) !== null;

describe("partner API key rotation", () => {
  it("issues a second key, refuses a third, and revoking one leaves the other working", async () => {
    const { admin, clientId, firstKey } = await setUp();
    const second = await createKey(admin, clientId);
    expect(second.userErrors).toEqual([]);
    expect(second.apiKey).toMatch(/^nxp_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}$/);
    expect(second.apiKey?.startsWith(second.key?.prefix ?? "-")).toBe(true);
    expect(await works(firstKey)).toBe(true);
    expect(await works(second.apiKey ?? "")).toBe(true);

    const third = await createKey(admin, clientId);
    expect(third).toMatchObject({ apiKey: null, key: null });
    expect(third.userErrors).toEqual([
      {
        field: ["input", "clientId"],
        code: "TOO_MANY_KEYS",
        message: "A partner client holds at most 2 working keys: revoke one before issuing another.",
      },
    ]);
    expect(await h.pg.db.selectFrom("partner_api_keys").select("id").execute()).toHaveLength(2);

    const [first] = await keysOf(admin);
    const revoked = await h.run(REVOKE_KEY, { input: { id: first?.id } }, { authorization: admin });
    expect(revoked.data).toMatchObject({
      revokePartnerApiKey: { key: { id: first?.id, revokedAt: expect.any(String) }, userErrors: [] },
    });
    expect(await works(firstKey)).toBe(false);
    expect(await works(second.apiKey ?? "")).toBe(true);

    // With one working key again, the next rotation may begin.
    const next = await createKey(admin, clientId);
    expect(next.userErrors).toEqual([]);
    expect(await works(next.apiKey ?? "")).toBe(true);
  });

  it("lists each key's issue, last use and revocation times, and never the key", async () => {
    const { admin, clientId, firstKey } = await setUp();
    const second = await createKey(admin, clientId);
    await works(firstKey);
    const [first] = await keysOf(admin);
    await h.run(REVOKE_KEY, { input: { id: first?.id } }, { authorization: admin });

    const working = await keysOf(admin);
    expect(working.map((key) => key.id)).toEqual([second.key?.id]);
    const all = await keysOf(admin, true);
    expect(all).toEqual([
      {
        id: first?.id,
        prefix: firstKey.slice(0, 12),
        createdAt: expect.any(String),
        lastUsedAt: expect.any(String),
        revokedAt: expect.any(String),
      },
      { ...second.key, revokedAt: null, lastUsedAt: null },
    ]);
    const listing = JSON.stringify(await h.run(KEYS, { includeRevoked: true }, { authorization: admin }));
    expect(listing).not.toContain(firstKey.slice(13));
    expect(listing).not.toContain(second.apiKey?.slice(13));
    // The deprecated single-key fields follow the newest working key and the latest use.
    expect(listing).toContain(`"keyPrefix":"${second.key?.prefix}"`);
    expect(listing).toContain(`"lastUsedAt":"${all[0]?.lastUsedAt}"`);
  });

  it("counts working keys under a lock: two concurrent requests for a second key make one", async () => {
    const { admin, clientId } = await setUp();
    await createKey(admin, clientId);
    const [, victim] = await keysOf(admin);
    await h.run(REVOKE_KEY, { input: { id: victim?.id } }, { authorization: admin });
    const results = await Promise.all([createKey(admin, clientId), createKey(admin, clientId)]);
    expect(results.map((result) => result.userErrors.map((error) => error.code)).sort()).toEqual([
      [],
      ["TOO_MANY_KEYS"],
    ]);
    expect(await keysOf(admin)).toHaveLength(2);
  });

  it("refuses unknown and revoked clients and unknown keys; a revoked client's keys all stop", async () => {
    const { admin, clientId, firstKey } = await setUp();
    const second = await createKey(admin, clientId);
    for (const id of ["00000000-0000-4000-8000-000000000000", "not-a-uuid"]) {
      expect((await createKey(admin, id)).userErrors.map(({ field, code }) => ({ field, code }))).toEqual([
        { field: ["input", "clientId"], code: "NOT_FOUND" },
      ]);
      const revoked = await h.run(REVOKE_KEY, { input: { id } }, { authorization: admin });
      expect(revoked.data).toEqual({
        revokePartnerApiKey: { key: null, userErrors: [{ field: ["input", "id"], code: "NOT_FOUND" }] },
      });
    }

    await h.run(REVOKE_CLIENT, { input: { id: clientId } }, { authorization: admin });
    expect(await works(firstKey)).toBe(false);
    expect(await works(second.apiKey ?? "")).toBe(false);
    expect((await createKey(admin, clientId)).userErrors.map((error) => error.code)).toEqual([
      "CLIENT_REVOKED",
    ]);
    expect(await keysOf(admin)).toEqual([]);
    expect((await keysOf(admin, true)).every((key) => key.revokedAt !== null)).toBe(true);
  });

  it("are managed by admins only", async () => {
    const { clientId } = await setUp();
    const { accessToken } = await h.register("not-staff@example.com");
    const asCustomer = await h.run(
      CREATE_KEY,
      { input: { clientId } },
      { authorization: `Bearer ${accessToken}` },
    );
    expect(asCustomer.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await h.pg.db.selectFrom("partner_api_keys").select("id").execute()).toHaveLength(1);
  });
});
