import type { ApolloServer } from "@apollo/server";
import { createLogger, createTokenSigner, createTokenVerifier, type TokenSigner } from "@nexus/core";
import {
  createTestAuth,
  createTestPostgres,
  executeSingle,
  TEST_TOKEN_AUDIENCE,
  type TestPostgres,
} from "@nexus/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Context, createContext, type Deps } from "../context.ts";
import type { Database } from "../db/database.ts";
import { migrations } from "../db/migrations.ts";
import { createServer } from "../server.ts";

let pg: TestPostgres<Database>;
let server: ApolloServer<Context>;
let deps: Deps;
let signer: TokenSigner;

beforeAll(async () => {
  pg = await createTestPostgres<Database>("users", migrations);
  const { privateKeyPem } = await createTestAuth();
  signer = await createTokenSigner({ ...TEST_TOKEN_AUDIENCE, privateKeyPem, ttlSeconds: 900 });
  const logger = createLogger("users-test", "silent");
  deps = {
    db: pg.db,
    signer,
    verify: createTokenVerifier({ ...TEST_TOKEN_AUDIENCE, jwks: signer.jwks }),
    logger,
  };
  server = createServer(logger);
  await server.start();
});

afterAll(async () => {
  await server?.stop();
  await pg?.drop();
});

beforeEach(async () => {
  await pg.db.deleteFrom("users").execute();
});

async function run(query: string, variables: Record<string, unknown> = {}, authorization?: string) {
  return executeSingle(server, await createContext(deps, { authorization }), query, variables);
}

const REGISTER = `mutation Register($input: RegisterInput!) {
  register(input: $input) { accessToken expiresAt user { id email name role } userErrors { field message code } }
}`;
const LOGIN = `mutation Login($input: LoginInput!) {
  login(input: $input) { accessToken user { id } userErrors { field message code } }
}`;

type AuthData = {
  accessToken: string | null;
  expiresAt: string | null;
  user: { id: string; email: string; name: string; role: string } | null;
  userErrors: { field: string[] | null; message: string; code: string }[];
};

async function register(input: Record<string, string>) {
  const result = await run(REGISTER, { input });
  expect(result.errors).toBeUndefined();
  return (result.data as { register: AuthData }).register;
}

describe("register", () => {
  it("creates a customer with a normalized email, an argon2id hash and a verifiable token", async () => {
    const payload = await register({ email: "  Ada@Example.COM ", password: "correct horse", name: " Ada " });
    expect(payload.userErrors).toEqual([]);
    expect(payload.user).toMatchObject({ email: "ada@example.com", name: "Ada", role: "CUSTOMER" });
    expect(new Date(payload.expiresAt ?? "").getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);

    const viewer = await deps.verify(`Bearer ${payload.accessToken}`);
    expect(viewer).toMatchObject({ userId: payload.user?.id, role: "CUSTOMER" });

    const row = await pg.db.selectFrom("users").select("password_hash").executeTakeFirstOrThrow();
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
    const rows = await pg.db.selectFrom("users").select("name").execute();
    expect(rows).toEqual([{ name: "Bo" }]);
  });

  it("reports every invalid field at once and writes nothing", async () => {
    const payload = await register({ email: "not-an-email", password: "short", name: "   " });
    expect(payload.userErrors.map((e) => e.code).sort()).toEqual([
      "INVALID_EMAIL",
      "INVALID_NAME",
      "WEAK_PASSWORD",
    ]);
    expect(await pg.db.selectFrom("users").selectAll().execute()).toEqual([]);
  });

  it("refuses passwords over 128 characters", async () => {
    const payload = await register({ email: "long@example.com", password: "x".repeat(129), name: "Long" });
    expect(payload.userErrors.map((e) => e.code)).toEqual(["WEAK_PASSWORD"]);
  });
});

describe("login", () => {
  it("signs in with the right password, in any email case", async () => {
    const { user } = await register({ email: "cy@example.com", password: "right password", name: "Cy" });
    const result = await run(LOGIN, { input: { email: "CY@example.com", password: "right password" } });
    const login = (result.data as { login: AuthData }).login;
    expect(login.userErrors).toEqual([]);
    expect(login.user?.id).toBe(user?.id);
    expect(await deps.verify(`Bearer ${login.accessToken}`)).toMatchObject({ userId: user?.id });
  });

  it("answers a wrong password and an unknown email the same way", async () => {
    await register({ email: "di@example.com", password: "right password", name: "Di" });
    const wrong = await run(LOGIN, { input: { email: "di@example.com", password: "wrong password" } });
    const unknown = await run(LOGIN, { input: { email: "nobody@example.com", password: "wrong password" } });
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
    const signedIn = await run("{ me { id email } }", {}, `Bearer ${accessToken}`);
    expect(signedIn.data).toEqual({ me: { id: user?.id, email: "ed@example.com" } });
    const anonymous = await run("{ me { id } }");
    expect(anonymous.data).toEqual({ me: null });
  });

  it("rejects a malformed or forged token with UNAUTHENTICATED", async () => {
    const forged = await createTestAuth();
    const { user } = await register({ email: "fi@example.com", password: "password fi", name: "Fi" });
    for (const authorization of ["Bearer not-a-jwt", "Basic abc", await forged.bearer(user?.id ?? "")]) {
      await expect(createContext(deps, { authorization })).rejects.toMatchObject({
        extensions: { code: "UNAUTHENTICATED", http: { status: 401 } },
      });
    }
  });

  it("resolves _entities references in one query, null for unknown ids", async () => {
    const a = await register({ email: "ga@example.com", password: "password ga", name: "Ga" });
    const b = await register({ email: "gb@example.com", password: "password gb", name: "Gb" });
    pg.queries.length = 0;
    const result = await run(
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
    expect(pg.queries).toHaveLength(1);
  });

  it("shows an email only to its owner and to admins", async () => {
    const owner = await register({ email: "ha@example.com", password: "password ha", name: "Ha" });
    const other = await register({ email: "hb@example.com", password: "password hb", name: "Hb" });
    const query = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { email } } }`;
    const reps = { reps: [{ __typename: "User", id: owner.user?.id }] };

    const asOther = await run(query, reps, `Bearer ${other.accessToken}`);
    expect(asOther.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const { token } = await signer.sign({ sub: other.user?.id ?? "", role: "ADMIN", scopes: [] });
    const asAdmin = await run(query, reps, `Bearer ${token}`);
    expect(asAdmin.data).toEqual({ _entities: [{ email: "ha@example.com" }] });
  });
});
