import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestEnv, type TestEnv } from "../test-env.ts";
import { exchangeApiKey, hashApiKey } from "./partner.service.ts";

let h: TestEnv;
beforeAll(async () => {
  h = await createTestEnv();
});
afterAll(() => h?.close());
beforeEach(() => h.reset());

const CREATE = `mutation ($input: CreatePartnerClientInput!) {
  createPartnerClient(input: $input) { apiKey client { id name keyPrefix revokedAt } userErrors { field code } }
}`;
const REVOKE = `mutation ($input: RevokePartnerClientInput!) {
  revokePartnerClient(input: $input) { client { id revokedAt } userErrors { field code } }
}`;
const LIST = `query ($first: Int, $after: String, $includeRevoked: Boolean) {
  partnerClients(first: $first, after: $after, includeRevoked: $includeRevoked) {
    totalCount edges { node { name } } pageInfo { hasNextPage endCursor }
  }
}`;

interface Created {
  apiKey: string | null;
  client: { id: string; name: string; keyPrefix: string; revokedAt: string | null } | null;
  userErrors: { field: string[]; code: string }[];
}

async function create(name: string, authorization: string): Promise<Created> {
  const result = await h.run(CREATE, { input: { name } }, { authorization });
  expect(result.errors).toBeUndefined();
  return (result.data as { createPartnerClient: Created }).createPartnerClient;
}

describe("partner clients", () => {
  it("return the API key once and store only its hash", async () => {
    const admin = await h.admin("admin@example.com");
    const created = await create("acme-feeds", admin.authorization);
    expect(created.userErrors).toEqual([]);
    expect(created.apiKey).toMatch(/^nxp_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}$/);
    expect(created.apiKey?.startsWith(created.client?.keyPrefix ?? "-")).toBe(true);
    const row = await h.pg.db.selectFrom("partner_api_keys").selectAll().executeTakeFirstOrThrow();
    expect(row.key_hash).toEqual(hashApiKey(created.apiKey ?? ""));
    expect(row.client_id).toBe(created.client?.id);
    expect(JSON.stringify(row)).not.toContain(created.apiKey?.slice(13));
    expect(row.created_by).toBe(admin.id);
  });

  it("exchange a live key for a PARTNER token naming the client, and a revoked key for nothing", async () => {
    const admin = await h.admin("admin2@example.com");
    const created = await create("acme", admin.authorization);
    const exchanged = await exchangeApiKey(h.pg.db, h.signer, created.apiKey ?? "", 300);
    const viewer = await h.deps.verify(`Bearer ${exchanged?.accessToken}`);
    expect(viewer).toMatchObject({ userId: created.client?.id, role: "PARTNER", clientName: "acme" });
    expect(viewer?.scopes).toEqual(["catalog:feed", "orders:status"]);
    expect((exchanged?.expiresAt.getTime() ?? 0) - Date.now()).toBeLessThanOrEqual(300_000);

    const revoked = await h.run(
      REVOKE,
      { input: { id: created.client?.id } },
      { authorization: admin.authorization },
    );
    expect(revoked.data).toMatchObject({
      revokePartnerClient: { client: { revokedAt: expect.any(String) }, userErrors: [] },
    });
    expect(await exchangeApiKey(h.pg.db, h.signer, created.apiKey ?? "", 300)).toBeNull();
    expect(await exchangeApiKey(h.pg.db, h.signer, "nxp_garbage", 300)).toBeNull();
  });

  it("refuse bad and duplicate names, and unknown ids", async () => {
    const admin = await h.admin("admin3@example.com");
    await create("acme", admin.authorization);
    expect((await create("acme", admin.authorization)).userErrors).toEqual([
      { field: ["input", "name"], code: "NAME_TAKEN" },
    ]);
    for (const name of ["ab", "has space", "x".repeat(65), "emoji-😀"]) {
      expect((await create(name, admin.authorization)).userErrors).toEqual([
        { field: ["input", "name"], code: "INVALID_NAME" },
      ]);
    }
    const unknown = await h.run(
      REVOKE,
      { input: { id: "00000000-0000-4000-8000-000000000000" } },
      { authorization: admin.authorization },
    );
    expect(unknown.data).toEqual({
      revokePartnerClient: { client: null, userErrors: [{ field: ["input", "id"], code: "NOT_FOUND" }] },
    });
  });

  it("are listed newest first, page by page, revoked ones only when asked", async () => {
    const admin = await h.admin("admin4@example.com");
    const ids = [];
    for (const name of ["one", "two", "three"])
      ids.push((await create(name, admin.authorization)).client?.id);
    await h.run(REVOKE, { input: { id: ids[0] } }, { authorization: admin.authorization });
    const active = await h.run(LIST, {}, { authorization: admin.authorization });
    expect(active.data).toMatchObject({
      partnerClients: { totalCount: 2, edges: [{ node: { name: "three" } }, { node: { name: "two" } }] },
    });
    const page1 = await h.run(
      LIST,
      { first: 2, includeRevoked: true },
      { authorization: admin.authorization },
    );
    const list1 = (
      page1.data as { partnerClients: { pageInfo: { endCursor: string; hasNextPage: boolean } } }
    ).partnerClients;
    expect(list1.pageInfo.hasNextPage).toBe(true);
    const page2 = await h.run(
      LIST,
      { first: 2, includeRevoked: true, after: list1.pageInfo.endCursor },
      { authorization: admin.authorization },
    );
    expect(page2.data).toMatchObject({
      partnerClients: { totalCount: 3, edges: [{ node: { name: "one" } }], pageInfo: { hasNextPage: false } },
    });
  });

  it("are managed by admins only", async () => {
    const { accessToken } = await h.register("customer@example.com");
    const asCustomer = await h.run(
      CREATE,
      { input: { name: "sneaky" } },
      { authorization: `Bearer ${accessToken}` },
    );
    expect(asCustomer.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const anonymous = await h.run(LIST);
    expect(anonymous).toMatchObject({
      data: { partnerClients: null },
      errors: [{ extensions: { code: "UNAUTHENTICATED" } }],
    });
    expect(await h.pg.db.selectFrom("partner_clients").selectAll().execute()).toEqual([]);
  });
});
