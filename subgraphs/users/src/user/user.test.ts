import { ROLE_SCOPES } from "@nexus/core";
import { createTestAuth } from "@nexus/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createContext } from "../context.ts";
import { type AuthData, createUsersHarness, type UsersHarness } from "../test-harness.ts";

let h: UsersHarness;

beforeAll(async () => {
  h = await createUsersHarness();
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
    expect(viewer).toMatchObject({ userId: payload.user?.id, role: "CUSTOMER" });

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
    expect(await h.deps.verify(`Bearer ${login.accessToken}`)).toMatchObject({ userId: user?.id });
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
    for (const authorization of ["Bearer not-a-jwt", "Basic abc", await forged.bearer(user?.id ?? "")]) {
      await expect(createContext(h.deps, { authorization })).rejects.toMatchObject({
        extensions: { code: "UNAUTHENTICATED", http: { status: 401 } },
      });
    }
  });

  it("resolves _entities references in one query, null for unknown ids", async () => {
    const a = await register({ email: "ga@example.com", password: "password ga", name: "Ga" });
    const b = await register({ email: "gb@example.com", password: "password gb", name: "Gb" });
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
      sub: other.user?.id ?? "",
      role: "ADMIN",
      scopes: ROLE_SCOPES.ADMIN,
    });
    const asAdmin = await h.run(query, reps, { authorization: `Bearer ${token}` });
    expect(asAdmin.data).toEqual({ _entities: [{ email: "ha@example.com" }] });
  });
});
