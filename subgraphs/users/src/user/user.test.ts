import { encodeCursor, ROLE_SCOPES } from "@nexus/core";
import { createTestAuth, rawId } from "@nexus/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createContext } from "../context.ts";
import { type AuthData, createTestEnv, type TestEnv } from "../test-env.ts";

let h: TestEnv;

beforeAll(async () => {
  h = await createTestEnv();
});
afterAll(() => h?.close());
beforeEach(() => h.reset());

const LOGIN = `mutation Login($input: LoginInput!) {
  login(input: $input) { accessToken user { id } userErrors { field message code } }
}`;

async function register(input: { email: string; password: string; name: string }) {
  return h.register(input.email, input);
}

describe("register", () => {
  it("creates a customer with a normalized email, an argon2id hash and a verifiable token", async () => {
    const payload = await register({ email: "  Ada@Example.COM ", password: "correct horse", name: " Ada " });
    expect(payload.userErrors).toEqual([]);
    expect(payload.user).toMatchObject({ email: "ada@example.com", name: "Ada", role: "CUSTOMER" });
    expect(new Date(payload.expiresAt ?? "").getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);

    const viewer = await h.deps.verify(`Bearer ${payload.accessToken}`);
    expect(viewer).toMatchObject({ userId: rawId(payload.user?.id), role: "CUSTOMER" });

    const row = await h.pg.db.selectFrom("users").select("password_hash").executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it("refuses a taken email whatever its case, and keeps the first account", async () => {
    await register({ email: "bo@example.com", password: "password-one", name: "Bo" });
    const second = await register({ email: "BO@example.com", password: "password-two", name: "Other" });
    expect(second.userErrors).toEqual([
      {
        code: "EMAIL_TAKEN",
        field: ["input", "email"],
        message: "An account with this email already exists.",
      },
    ]);
    expect(second.accessToken).toBeNull();
    const rows = await h.pg.db.selectFrom("users").select("name").execute();
    expect(rows).toEqual([{ name: "Bo" }]);
  });

  it("reports every invalid field at once and writes nothing", async () => {
    const payload = await register({ email: "not-an-email", password: "short", name: "   " });
    expect(payload.userErrors.map((e) => e.code).sort()).toEqual([
      "INVALID_EMAIL",
      "INVALID_NAME",
      "WEAK_PASSWORD",
    ]);
    expect(await h.pg.db.selectFrom("users").selectAll().execute()).toEqual([]);
  });

  it("refuses passwords over 128 characters", async () => {
    const payload = await register({ email: "long@example.com", password: "x".repeat(129), name: "Long" });
    expect(payload.userErrors.map((e) => e.code)).toEqual(["WEAK_PASSWORD"]);
  });
});

describe("login", () => {
  it("signs in with the right password, in any email case", async () => {
    const { user } = await register({ email: "cy@example.com", password: "right password", name: "Cy" });
    const result = await h.run(LOGIN, { input: { email: "CY@example.com", password: "right password" } });
    const login = (result.data as { login: AuthData }).login;
    expect(login.userErrors).toEqual([]);
    expect(login.user?.id).toBe(user?.id);
    expect(await h.deps.verify(`Bearer ${login.accessToken}`)).toMatchObject({ userId: rawId(user?.id) });
  });

  it("answers a wrong password and an unknown email the same way", async () => {
    await register({ email: "di@example.com", password: "right password", name: "Di" });
    const wrong = await h.run(LOGIN, { input: { email: "di@example.com", password: "wrong password" } });
    const unknown = await h.run(LOGIN, {
      input: { email: "nobody@example.com", password: "wrong password" },
    });
    expect(wrong.data).toEqual(unknown.data);
    expect((wrong.data as { login: AuthData }).login).toEqual({
      accessToken: null,
      user: null,
      userErrors: [
        { code: "INVALID_CREDENTIALS", field: null, message: "The email or password is incorrect." },
      ],
    });
  });
});

describe("me and User", () => {
  it("returns the signed-in user, and null when anonymous", async () => {
    const { accessToken, user } = await register({
      email: "ed@example.com",
      password: "password ed",
      name: "Ed",
    });
    const signedIn = await h.run("{ me { id email } }", {}, { authorization: `Bearer ${accessToken}` });
    expect(signedIn.data).toEqual({ me: { id: user?.id, email: "ed@example.com" } });
    const anonymous = await h.run("{ me { id } }");
    expect(anonymous.data).toEqual({ me: null });
  });

  it("rejects a malformed or forged token with UNAUTHENTICATED", async () => {
    const forged = await createTestAuth();
    const { user } = await register({ email: "fi@example.com", password: "password fi", name: "Fi" });
    for (const authorization of ["Bearer not-a-jwt", "Basic abc", await forged.bearer(rawId(user?.id))]) {
      await expect(createContext(h.deps, { authorization })).rejects.toMatchObject({
        extensions: { code: "UNAUTHENTICATED", http: { status: 401 } },
      });
    }
  });

  it("resolves _entities references in one query, null for unknown ids", async () => {
    const a = await register({ email: "ga@example.com", password: "password ga", name: "Ga" });
    const b = await register({ email: "gb@example.com", password: "password gb", name: "Gb" });
    // Registering publishes its events in the background; those queries are not this one's.
    await h.relay.flush();
    h.pg.queries.length = 0;
    const result = await h.run(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id name } } }`,
      {
        reps: [
          { __typename: "User", id: b.user?.id },
          { __typename: "User", id: "00000000-0000-4000-8000-000000000000" },
          { __typename: "User", id: "not-a-uuid" },
          { __typename: "User", id: a.user?.id },
        ],
      },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      _entities: [{ id: b.user?.id, name: "Gb" }, null, null, { id: a.user?.id, name: "Ga" }],
    });
    expect(h.pg.queries).toHaveLength(1);
  });

  it("shows an email only to its owner and to admins", async () => {
    const owner = await register({ email: "ha@example.com", password: "password ha", name: "Ha" });
    const other = await register({ email: "hb@example.com", password: "password hb", name: "Hb" });
    const query = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { email } } }`;
    const reps = { reps: [{ __typename: "User", id: owner.user?.id }] };

    const asOther = await h.run(query, reps, { authorization: `Bearer ${other.accessToken}` });
    expect(asOther.data).toEqual({ _entities: [{ email: null }] });
    expect(asOther.errors?.[0]).toMatchObject({
      path: ["_entities", 0, "email"],
      extensions: { code: "FORBIDDEN" },
    });
    const { token } = await h.signer.sign({
      sub: rawId(other.user?.id),
      role: "ADMIN",
      scopes: ROLE_SCOPES.ADMIN,
    });
    const asAdmin = await h.run(query, reps, { authorization: `Bearer ${token}` });
    expect(asAdmin.data).toEqual({ _entities: [{ email: "ha@example.com" }] });
  });
});

describe("profile and password", () => {
  const CHANGE = `mutation ($input: ChangePasswordInput!) {
    changePassword(input: $input) { accessToken refreshToken userErrors { field code } }
  }`;

  it("changes the password only with the current one, and signs out every session", async () => {
    const first = await h.register("pw@example.com", { password: "old password" });
    const authorization = { authorization: `Bearer ${first.accessToken}` };
    const wrong = await h.run(
      CHANGE,
      { input: { currentPassword: "nope nope", newPassword: "new password" } },
      authorization,
    );
    expect(wrong.data).toEqual({
      changePassword: {
        accessToken: null,
        refreshToken: null,
        userErrors: [{ field: ["input", "currentPassword"], code: "INVALID_CREDENTIALS" }],
      },
    });
    const weak = await h.run(
      CHANGE,
      { input: { currentPassword: "old password", newPassword: "short" } },
      authorization,
    );
    expect(
      (weak.data as { changePassword: { userErrors: { code: string }[] } }).changePassword.userErrors[0]
        ?.code,
    ).toBe("WEAK_PASSWORD");

    const changed = await h.run(
      CHANGE,
      { input: { currentPassword: "old password", newPassword: "new password" } },
      authorization,
    );
    const payload = (changed.data as { changePassword: { refreshToken: string; userErrors: unknown[] } })
      .changePassword;
    expect(payload.userErrors).toEqual([]);
    const refresh = `mutation ($token: String!) { refreshToken(token: $token) { userErrors { code } } }`;
    expect((await h.run(refresh, { token: first.refreshToken })).data).toEqual({
      refreshToken: { userErrors: [{ code: "INVALID_REFRESH_TOKEN" }] },
    });
    expect((await h.run(refresh, { token: payload.refreshToken })).data).toEqual({
      refreshToken: { userErrors: [] },
    });
    const oldLogin = await h.run(LOGIN, { input: { email: "pw@example.com", password: "old password" } });
    expect((oldLogin.data as { login: { userErrors: { code: string }[] } }).login.userErrors[0]?.code).toBe(
      "INVALID_CREDENTIALS",
    );
  });

  it("updates the profile name with validation, for the signed-in user only", async () => {
    const { accessToken } = await h.register("name@example.com", { name: "Old" });
    const update = `mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { user { name } userErrors { field code } } }`;
    const auth = { authorization: `Bearer ${accessToken}` };
    expect((await h.run(update, { input: { name: "  New Name " } }, auth)).data).toEqual({
      updateProfile: { user: { name: "New Name" }, userErrors: [] },
    });
    expect((await h.run(update, { input: { name: "" } }, auth)).data).toEqual({
      updateProfile: { user: null, userErrors: [{ field: ["input", "name"], code: "INVALID_NAME" }] },
    });
    expect((await h.run(update, { input: { name: "Anon" } })).errors?.[0]?.extensions?.code).toBe(
      "UNAUTHENTICATED",
    );
  });

  it("upgrades a hash made with weaker parameters at the next sign-in", async () => {
    const { user } = await h.register("legacy@example.com", { password: "legacy password" });
    const { hash } = await import("@node-rs/argon2");
    const weak = await hash("legacy password", { memoryCost: 4096, timeCost: 1, parallelism: 1 });
    await h.pg.db
      .updateTable("users")
      .set({ password_hash: weak })
      .where("id", "=", rawId(user?.id))
      .execute();
    const login = await h.run(LOGIN, { input: { email: "legacy@example.com", password: "legacy password" } });
    expect((login.data as { login: { userErrors: unknown[] } }).login.userErrors).toEqual([]);
    const row = await h.pg.db.selectFrom("users").select("password_hash").executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });
});

describe("administration", () => {
  const USERS = `query ($first: Int, $after: String, $search: String) {
    users(first: $first, after: $after, search: $search) {
      totalCount edges { cursor node { email role } } pageInfo { hasNextPage endCursor }
    }
  }`;
  type UsersPage = {
    users: {
      totalCount: number;
      edges: { node: { email: string } }[];
      pageInfo: { hasNextPage: boolean; endCursor: string };
    };
  };

  it("pages through every account exactly once, newest first", async () => {
    const admin = await h.admin("admin@example.com");
    for (let i = 0; i < 6; i++) await h.register(`user${i}@example.com`);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const result = await h.run(USERS, { first: 3, after }, { authorization: admin.authorization });
      const page = (result.data as UsersPage).users;
      expect(page.totalCount).toBe(7);
      seen.push(...page.edges.map((edge) => edge.node.email));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual([
      ...Array.from({ length: 6 }, (_, i) => `user${5 - i}@example.com`),
      "admin@example.com",
    ]);
  });

  it("searches emails and names literally, without letting % or _ act as wildcards", async () => {
    const admin = await h.admin("admin@example.com");
    await h.register("grace@example.com", { name: "Grace Hopper" });
    await h.register("g_race@example.com", { name: "100% Grace" });
    const search = async (text: string) =>
      (
        (await h.run(USERS, { search: text }, { authorization: admin.authorization })).data as UsersPage
      ).users.edges.map((edge) => edge.node.email);
    expect(await search("HOPPER")).toEqual(["grace@example.com"]);
    expect(await search("_")).toEqual(["g_race@example.com"]);
    expect(await search("100%")).toEqual(["g_race@example.com"]);
    const bad = await h.run(USERS, { after: "bm90LWEtY3Vyc29y" }, { authorization: admin.authorization });
    expect(bad.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    // The shape of a PostgreSQL timestamp, but no such time: PostgreSQL would refuse it.
    const impossible = encodeCursor(["2026-13-45 25:61:61+00", "00000000-0000-4000-8000-000000000000"]);
    const refused = await h.run(USERS, { after: impossible }, { authorization: admin.authorization });
    expect(refused.errors?.map((error) => error.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
  });

  it("reads any account by id for admins only", async () => {
    const admin = await h.admin("admin@example.com");
    const { user, accessToken } = await h.register("someone@example.com");
    const query = `query ($id: ID!) { user(id: $id) { email } }`;
    expect((await h.run(query, { id: user?.id }, { authorization: admin.authorization })).data).toEqual({
      user: { email: "someone@example.com" },
    });
    const asCustomer = await h.run(query, { id: user?.id }, { authorization: `Bearer ${accessToken}` });
    expect(asCustomer).toMatchObject({
      data: { user: null },
      errors: [{ extensions: { code: "FORBIDDEN" } }],
    });
  });

  it("changes roles, but never demotes the last admin", async () => {
    const admin = await h.admin("only-admin@example.com");
    const set = `mutation ($input: SetUserRoleInput!) { setUserRole(input: $input) { user { role } userErrors { field code } } }`;
    const demote = await h.run(
      set,
      { input: { userId: admin.id, role: "CUSTOMER" } },
      { authorization: admin.authorization },
    );
    expect(demote.data).toEqual({
      setUserRole: { user: null, userErrors: [{ field: ["input", "role"], code: "LAST_ADMIN" }] },
    });
    const missing = await h.run(
      set,
      { input: { userId: "not-a-uuid", role: "ADMIN" } },
      { authorization: admin.authorization },
    );
    expect(missing.data).toEqual({
      setUserRole: { user: null, userErrors: [{ field: ["input", "userId"], code: "NOT_FOUND" }] },
    });

    // Two admins demoting each other at once: one of them stays admin.
    const second = await h.admin("second-admin@example.com");
    await Promise.all([
      h.run(set, { input: { userId: second.id, role: "CUSTOMER" } }, { authorization: admin.authorization }),
      h.run(set, { input: { userId: admin.id, role: "CUSTOMER" } }, { authorization: second.authorization }),
    ]);
    const admins = await h.pg.db.selectFrom("users").select("id").where("role", "=", "ADMIN").execute();
    expect(admins).toHaveLength(1);

    const { accessToken } = await h.register("customer@example.com");
    const asCustomer = await h.run(
      set,
      { input: { userId: admin.id, role: "CUSTOMER" } },
      { authorization: `Bearer ${accessToken}` },
    );
    expect(asCustomer.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});
