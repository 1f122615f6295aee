import { rawId } from "@nexus/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AUTH_FIELDS, type AuthData, createTestEnv, type TestEnv } from "../test-env.ts";
import { hashRefreshToken } from "./session.service.ts";

let h: TestEnv;
beforeAll(async () => {
  h = await createTestEnv();
});
afterAll(() => h?.close());
beforeEach(() => h.reset());

const REFRESH = `mutation ($token: String!) { refreshToken(token: $token) { ${AUTH_FIELDS} } }`;
const LOGOUT = `mutation ($token: String!) { logout(refreshToken: $token) { success userErrors { code } } }`;

async function refresh(token: string | null): Promise<AuthData> {
  const result = await h.run(REFRESH, { token });
  expect(result.errors).toBeUndefined();
  return (result.data as { refreshToken: AuthData }).refreshToken;
}

const codes = (payload: AuthData) => payload.userErrors.map((error) => error.code);

describe("refresh tokens", () => {
  it("are 256-bit opaque strings stored only as SHA-256 hashes", async () => {
    const { refreshToken, refreshTokenExpiresAt } = await h.register("rt@example.com");
    expect(refreshToken).toMatch(/^nxr_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(refreshToken?.slice(4) ?? "", "base64url")).toHaveLength(32);
    const rows = await h.pg.db.selectFrom("refresh_tokens").select("token_hash").execute();
    expect(rows).toEqual([{ token_hash: hashRefreshToken(refreshToken ?? "") }]);
    const stored = JSON.stringify(await h.pg.db.selectFrom("refresh_tokens").selectAll().execute());
    expect(stored).not.toContain(refreshToken?.slice(4));
    // The sign-in lasts 30 days.
    const days = (new Date(refreshTokenExpiresAt ?? "").getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
  });

  it("rotate on every use and keep the family's end date", async () => {
    const first = await h.register("rotate@example.com");
    const second = await refresh(first.refreshToken);
    expect(codes(second)).toEqual([]);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.refreshTokenExpiresAt).toBe(first.refreshTokenExpiresAt);
    expect(await h.deps.verify(`Bearer ${second.accessToken}`)).toMatchObject({
      userId: rawId(first.user?.id),
    });
    const third = await refresh(second.refreshToken);
    expect(codes(third)).toEqual([]);
  });

  it("revoke the whole family when a used token comes back (RT1 -> RT2, RT1 again kills RT2)", async () => {
    const rt1 = (await h.register("reuse@example.com")).refreshToken;
    const rt2 = (await refresh(rt1)).refreshToken;
    const reused = await refresh(rt1);
    expect(codes(reused)).toEqual(["REFRESH_TOKEN_REUSED"]);
    expect(reused.accessToken).toBeNull();
    expect(codes(await refresh(rt2))).toEqual(["INVALID_REFRESH_TOKEN"]);
    const family = await h.pg.db
      .selectFrom("refresh_token_families")
      .select("revoked_reason")
      .executeTakeFirst();
    expect(family).toEqual({ revoked_reason: "reuse" });
  });

  it("leave other sign-ins of the same user alone when one family is revoked", async () => {
    const phone = await h.register("two@example.com", { password: "correct horse battery" });
    const login = await h.run(
      `mutation { login(input: { email: "two@example.com", password: "correct horse battery" }) { refreshToken } }`,
    );
    const laptop = (login.data as { login: { refreshToken: string } }).login.refreshToken;
    const rt2 = (await refresh(phone.refreshToken)).refreshToken;
    await refresh(phone.refreshToken);
    expect(codes(await refresh(rt2))).toEqual(["INVALID_REFRESH_TOKEN"]);
    expect(codes(await refresh(laptop))).toEqual([]);
  });

  it("let exactly one of many concurrent uses of one token through, and treat the rest as reuse", async () => {
    const { refreshToken } = await h.register("race@example.com");
    const results = await Promise.all(Array.from({ length: 10 }, () => refresh(refreshToken)));
    const winners = results.filter((result) => result.accessToken !== null);
    expect(winners).toHaveLength(1);
    // The first loser finds the token used and revokes the family; later ones find it revoked.
    expect(results.filter((result) => codes(result)[0] === "REFRESH_TOKEN_REUSED")).toHaveLength(1);
    expect(results.filter((result) => codes(result)[0] === "INVALID_REFRESH_TOKEN")).toHaveLength(8);
    expect(codes(await refresh(winners[0]?.refreshToken ?? null))).toEqual(["INVALID_REFRESH_TOKEN"]);
  });

  it("refuse unknown, malformed and expired tokens alike", async () => {
    const { refreshToken, user } = await h.register("expired@example.com");
    expect(codes(await refresh(`nxr_${"A".repeat(43)}`))).toEqual(["INVALID_REFRESH_TOKEN"]);
    expect(codes(await refresh("not a token"))).toEqual(["INVALID_REFRESH_TOKEN"]);
    await h.pg.db
      .updateTable("refresh_token_families")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where("user_id", "=", rawId(user?.id))
      .execute();
    expect(codes(await refresh(refreshToken))).toEqual(["INVALID_REFRESH_TOKEN"]);
  });

  it("stop working after logout, and logout of unknown tokens still succeeds", async () => {
    const { refreshToken } = await h.register("logout@example.com");
    const rt2 = (await refresh(refreshToken)).refreshToken;
    // Signing out with an older token of the family ends the whole sign-in.
    expect((await h.run(LOGOUT, { token: refreshToken })).data).toEqual({
      logout: { success: true, userErrors: [] },
    });
    expect(codes(await refresh(rt2))).toEqual(["INVALID_REFRESH_TOKEN"]);
    expect((await h.run(LOGOUT, { token: "nxr_unknown" })).data).toEqual({
      logout: { success: true, userErrors: [] },
    });
  });

  it("carry the account's current role: a role change takes effect at the next token", async () => {
    const customer = await h.register("promoted@example.com");
    const admin = await h.admin("boss@example.com");
    const change = await h.run(
      `mutation ($input: SetUserRoleInput!) { setUserRole(input: $input) { user { role } userErrors { code } } }`,
      { input: { userId: customer.user?.id, role: "ADMIN" } },
      { authorization: admin.authorization },
    );
    expect(change.data).toEqual({ setUserRole: { user: { role: "ADMIN" }, userErrors: [] } });
    // The token issued before the change still says CUSTOMER...
    expect(await h.deps.verify(`Bearer ${customer.accessToken}`)).toMatchObject({
      role: "CUSTOMER",
      scopes: [],
    });
    // ...the next one says ADMIN, with the admin scopes.
    const next = await refresh(customer.refreshToken);
    const viewer = await h.deps.verify(`Bearer ${next.accessToken}`);
    expect(viewer?.role).toBe("ADMIN");
    expect(viewer?.scopes).toContain("users:read:any");
  });
});
