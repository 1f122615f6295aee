import { openFromServices } from "@nexus/core";
import { rawId } from "@nexus/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestEnv, type TestEnv } from "../test-env.ts";

let h: TestEnv;
beforeAll(async () => {
  h = await createTestEnv();
});
afterAll(() => h?.close());
beforeEach(() => h.reset());

interface Done {
  success: boolean;
  userErrors: { field: string[] | null; code: string; message: string }[];
}

const REQUEST_RESET = `mutation ($input: RequestPasswordResetInput!) {
  requestPasswordReset(input: $input) { success userErrors { field code message } }
}`;
const RESET = `mutation ($input: ResetPasswordInput!) {
  resetPassword(input: $input) { success userErrors { field code message } }
}`;
const VERIFY = `mutation ($input: VerifyEmailInput!) {
  verifyEmail(input: $input) { success userErrors { field code message } }
}`;
const RESEND = `mutation { resendVerificationEmail { success userErrors { field code message } } }`;
const LOGIN = `mutation ($input: LoginInput!) {
  login(input: $input) { accessToken refreshToken user { id emailVerified } userErrors { code } }
}`;
const REFRESH = `mutation ($token: String!) {
  refreshToken(token: $token) { accessToken refreshToken userErrors { code } }
}`;

const bearer = (token: string | null) => ({ authorization: `Bearer ${token}` });

async function mutate<T = Done>(
  query: string,
  variables: Record<string, unknown> = {},
  options: { authorization?: string; clientIp?: string } = {},
): Promise<T> {
  const result = await h.run(query, variables, options);
  expect(result.errors).toBeUndefined();
  const data = result.data as Record<string, T>;
  return Object.values(data)[0] as T;
}

const requestReset = (email: string, clientIp = "203.0.113.1") =>
  mutate(REQUEST_RESET, { input: { email } }, { clientIp });
const resetWith = (token: string, newPassword = "a brand new password") =>
  mutate(RESET, { input: { token, newPassword } });
const verifyWith = (token: string) => mutate(VERIFY, { input: { token } });

/** Opens the sealed token of the latest event of this type, as notifications would. */
async function latestToken(type: "PasswordResetRequested" | "EmailVerificationRequested"): Promise<string> {
  const events = await h.events(type);
  const sealed = events.at(-1)?.payload.sealedToken ?? "";
  const token = openFromServices(h.secrets, sealed);
  if (!token) throw new Error(`no ${type} token in the outbox`);
  return token;
}

/** Opens the sealed token of the latest event of this type for one account. */
async function tokenFor(
  type: "PasswordResetRequested" | "EmailVerificationRequested",
  userId: string | undefined,
): Promise<string> {
  const events = (await h.events(type)).filter((event) => event.payload.userId === userId);
  return openFromServices(h.secrets, events.at(-1)?.payload.sealedToken ?? "") ?? "";
}

async function login(email: string, password: string) {
  return mutate<{
    accessToken: string | null;
    refreshToken: string | null;
    user: { id: string; emailVerified: boolean } | null;
    userErrors: { code: string }[];
  }>(LOGIN, { input: { email, password } });
}

const claims = async (accessToken: string | null) => h.deps.verify(`Bearer ${accessToken}`);

const ok = { success: true, userErrors: [] };

describe("events of an account's life", () => {
  it("register records UserRegistered and a sealed verification token, and issues email_verified: false", async () => {
    const ada = await h.register(" Ada@Example.com ", { name: "Ada" });
    const id = rawId(ada.user?.id);
    expect(await claims(ada.accessToken)).toMatchObject({ userId: id, emailVerified: false });
    expect(await h.events("UserRegistered")).toEqual([
      {
        type: "UserRegistered",
        aggregateId: id,
        payload: {
          user: { id, email: "ada@example.com", name: "Ada", role: "CUSTOMER", emailVerified: false },
        },
      },
    ]);
    const [requested] = await h.events("EmailVerificationRequested");
    expect(requested?.payload).toEqual({
      userId: id,
      email: "ada@example.com",
      name: "Ada",
      sealedToken: expect.stringMatching(/^v1\./),
      expiresAt: expect.any(String),
    });
    const expiresIn = new Date(requested?.payload.expiresAt ?? "").getTime() - Date.now();
    expect(expiresIn).toBeGreaterThan(47 * 3600_000);
    expect(expiresIn).toBeLessThanOrEqual(48 * 3600_000);
    // The token travels sealed only: the outbox holds nothing a reader could use.
    const token = await latestToken("EmailVerificationRequested");
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(await h.events())).not.toContain(token);
    const stored = await h.pg.db.selectFrom("account_tokens").selectAll().executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ user_id: id, purpose: "verify", email: "ada@example.com", used_at: null });
    expect(stored.token_hash.toString("base64url")).not.toBe(token);
  });

  it("publishes what it records through the relay", async () => {
    await h.register("relay@example.com");
    await h.relay.flush();
    const unpublished = await h.pg.db
      .selectFrom("outbox")
      .select("id")
      .where("published_at", "is", null)
      .execute();
    expect(unpublished).toEqual([]);
  });

  it("updateProfile records UserChanged for a new name only", async () => {
    const { accessToken, user } = await h.register("name@example.com", { name: "Old" });
    const update = `mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { user { name } userErrors { code } } }`;
    await mutate(update, { input: { name: "New" } }, bearer(accessToken));
    await mutate(update, { input: { name: " New " } }, bearer(accessToken));
    await mutate(update, { input: { name: "" } }, bearer(accessToken));
    expect(await h.events("UserChanged")).toEqual([
      {
        type: "UserChanged",
        aggregateId: rawId(user?.id),
        payload: {
          user: {
            id: rawId(user?.id),
            email: "name@example.com",
            name: "New",
            role: "CUSTOMER",
            emailVerified: false,
          },
          changed: ["name"],
        },
      },
    ]);
  });

  it("setUserRole records UserChanged with the new role; importCustomers a UserRegistered per new account", async () => {
    const admin = await h.admin("boss@example.com");
    const { user } = await h.register("staff@example.com");
    const setRole = `mutation ($input: SetUserRoleInput!) { setUserRole(input: $input) { userErrors { code } } }`;
    await mutate(setRole, { input: { userId: user?.id, role: "ADMIN" } }, admin);
    await mutate(setRole, { input: { userId: user?.id, role: "ADMIN" } }, admin);
    expect((await h.events("UserChanged")).map((e) => [e.payload.changed, e.payload.user.role])).toEqual([
      [["role"], "ADMIN"],
    ]);

    const importing = `mutation ($input: ImportCustomersInput!) { importCustomers(input: $input) { customers { created user { id } } } }`;
    const first = await mutate<{ customers: { created: boolean; user: { id: string } }[] }>(
      importing,
      { input: { customers: [{ externalId: "X1" }, { externalId: "X2" }] } },
      admin,
    );
    await mutate(importing, { input: { customers: [{ externalId: "X2" }, { externalId: "X3" }] } }, admin);
    const imported = (await h.events("UserRegistered")).filter((e) => e.payload.user.email === null);
    expect(imported.map((e) => e.payload.user.name).sort()).toEqual([
      "Customer X1",
      "Customer X2",
      "Customer X3",
    ]);
    expect(imported.find((e) => e.payload.user.name === "Customer X1")?.aggregateId).toBe(
      rawId(first.customers[0]?.user.id),
    );
  });

  it("changePassword records PasswordChanged via change", async () => {
    const { accessToken, user } = await h.register("pw@example.com", {
      name: "Pat",
      password: "old password",
    });
    const change = `mutation ($input: ChangePasswordInput!) { changePassword(input: $input) { userErrors { code } } }`;
    await mutate(
      change,
      { input: { currentPassword: "wrong one!", newPassword: "new password" } },
      bearer(accessToken),
    );
    expect(await h.events("PasswordChanged")).toEqual([]);
    await mutate(
      change,
      { input: { currentPassword: "old password", newPassword: "new password" } },
      bearer(accessToken),
    );
    expect((await h.events("PasswordChanged")).map((e) => e.payload)).toEqual([
      { userId: rawId(user?.id), email: "pw@example.com", name: "Pat", via: "change" },
    ]);
  });
});

describe("email verification", () => {
  it("verifies with the mailed token once, records UserChanged, and later tokens carry email_verified: true", async () => {
    const bo = await h.register("bo@example.com", { password: "bo password" });
    const token = await latestToken("EmailVerificationRequested");
    expect(await verifyWith(token)).toEqual(ok);
    const me = await h.run("{ me { emailVerified } }", {}, bearer(bo.accessToken));
    expect(me.data).toEqual({ me: { emailVerified: true } });
    expect((await h.events("UserChanged")).map((e) => e.payload)).toEqual([
      {
        user: expect.objectContaining({ id: rawId(bo.user?.id), emailVerified: true }),
        changed: ["emailVerified"],
      },
    ]);
    const refreshed = await mutate<{ accessToken: string }>(REFRESH, { token: bo.refreshToken });
    expect(await claims(refreshed.accessToken)).toMatchObject({ emailVerified: true });
    const signedIn = await login("bo@example.com", "bo password");
    expect(signedIn.user?.emailVerified).toBe(true);
    expect(await claims(signedIn.accessToken)).toMatchObject({ emailVerified: true });

    expect(await verifyWith(token)).toEqual({
      success: false,
      userErrors: [{ field: ["input", "token"], code: "INVALID_TOKEN", message: expect.any(String) }],
    });
  });

  it("refuses unknown, malformed and expired tokens, and changes nothing", async () => {
    await h.register("cy@example.com");
    const token = await latestToken("EmailVerificationRequested");
    for (const bad of ["", "not a token", "A".repeat(43), `${token}x`]) {
      expect((await verifyWith(bad)).userErrors.map((e) => e.code)).toEqual(["INVALID_TOKEN"]);
    }
    await h.pg.db
      .updateTable("account_tokens")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .execute();
    expect((await verifyWith(token)).userErrors.map((e) => e.code)).toEqual(["TOKEN_EXPIRED"]);
    const row = await h.pg.db.selectFrom("users").select("email_verified").executeTakeFirstOrThrow();
    expect(row.email_verified).toBe(false);
  });

  it("resendVerificationEmail replaces the unused token, is rate limited, and refuses a verified address", async () => {
    const di = await h.register("di@example.com");
    const auth = bearer(di.accessToken);
    const first = await latestToken("EmailVerificationRequested");
    expect(await mutate(RESEND, {}, auth)).toEqual(ok);
    const second = await latestToken("EmailVerificationRequested");
    expect(second).not.toBe(first);
    expect((await verifyWith(first)).userErrors.map((e) => e.code)).toEqual(["INVALID_TOKEN"]);
    expect(await mutate(RESEND, {}, auth)).toEqual(ok);
    expect(await mutate(RESEND, {}, auth)).toEqual(ok);
    const limited = await mutate(RESEND, {}, auth);
    expect(limited.userErrors.map((e) => e.code)).toEqual(["RATE_LIMITED"]);
    expect(await h.events("EmailVerificationRequested")).toHaveLength(4);

    expect(await verifyWith(await latestToken("EmailVerificationRequested"))).toEqual(ok);
    expect((await mutate(RESEND, {}, auth)).userErrors.map((e) => e.code)).toEqual(["ALREADY_VERIFIED"]);
    expect((await h.run(RESEND)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });
});

describe("password reset", () => {
  it("answers the same for a known email and unknown ones, and mails only the known", async () => {
    const known = await h.register("known@example.com", { name: "Known" });
    const answers = [
      await requestReset("KNOWN@example.com"),
      await requestReset("nobody@example.com"),
      await requestReset("imported-without@example.com"),
    ];
    for (const answer of answers) expect(answer).toEqual(ok);
    expect((await h.events("PasswordResetRequested")).map((e) => e.payload)).toEqual([
      {
        userId: rawId(known.user?.id),
        email: "known@example.com",
        name: "Known",
        sealedToken: expect.any(String),
        expiresAt: expect.any(String),
        purpose: "reset",
      },
    ]);
    const expiresIn =
      new Date((await h.events("PasswordResetRequested"))[0]?.payload.expiresAt ?? "").getTime() - Date.now();
    expect(expiresIn).toBeGreaterThan(29 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(30 * 60_000);
  });

  it("refuses input that is not an email address", async () => {
    expect(await requestReset("not-an-email")).toEqual({
      success: false,
      userErrors: [{ field: ["input", "email"], code: "INVALID_EMAIL", message: expect.any(String) }],
    });
  });

  it("limits requests per email (known or not) with the same answer, sending nothing more", async () => {
    await h.register("often@example.com");
    for (let i = 0; i < 5; i += 1) {
      expect(await requestReset("often@example.com", `198.51.100.${i}`)).toEqual(ok);
      expect(await requestReset("never@example.com", `198.51.100.${i}`)).toEqual(ok);
    }
    expect(await h.events("PasswordResetRequested")).toHaveLength(3);
    const throttled = h.logs.filter((log) => log.message === "password reset request throttled");
    expect(throttled).toHaveLength(4);
    expect(JSON.stringify(throttled)).not.toContain("@example.com");
  });

  it("limits requests per client address across emails", async () => {
    const emails = Array.from({ length: 22 }, (_, i) => `spray${i}@example.com`);
    for (const email of emails.slice(20)) await h.register(email);
    for (const email of emails) expect(await requestReset(email, "192.0.2.9")).toEqual(ok);
    // The 21st and 22nd requests from this address were over its limit of 20.
    expect(await h.events("PasswordResetRequested")).toEqual([]);
    expect(await requestReset(emails[21] ?? "", "192.0.2.10")).toEqual(ok);
    expect(await h.events("PasswordResetRequested")).toHaveLength(1);
  });

  it("sets the password with the mailed token, once; revokes every session; verifies the email", async () => {
    const ed = await h.register("ed@example.com", { name: "Ed", password: "old password" });
    const other = await login("ed@example.com", "old password");
    await requestReset("ed@example.com");
    const token = await latestToken("PasswordResetRequested");

    expect((await resetWith(token, "short")).userErrors.map((e) => e.code)).toEqual(["WEAK_PASSWORD"]);
    expect(await resetWith(token, "new password!")).toEqual(ok);
    expect((await resetWith(token, "another password")).userErrors.map((e) => e.code)).toEqual([
      "INVALID_TOKEN",
    ]);

    for (const refreshToken of [ed.refreshToken, other.refreshToken]) {
      expect(await mutate(REFRESH, { token: refreshToken })).toMatchObject({
        userErrors: [{ code: "INVALID_REFRESH_TOKEN" }],
      });
    }
    expect((await login("ed@example.com", "old password")).userErrors).toEqual([
      { code: "INVALID_CREDENTIALS" },
    ]);
    const signedIn = await login("ed@example.com", "new password!");
    expect(signedIn.userErrors).toEqual([]);
    expect(await claims(signedIn.accessToken)).toMatchObject({ emailVerified: true });

    expect((await h.events("PasswordChanged")).map((e) => e.payload)).toEqual([
      { userId: rawId(ed.user?.id), email: "ed@example.com", name: "Ed", via: "reset" },
    ]);
    expect((await h.events("UserChanged")).map((e) => e.payload.changed)).toEqual([["emailVerified"]]);
    const tokenRow = await h.pg.db
      .selectFrom("account_tokens")
      .selectAll()
      .where("purpose", "=", "reset")
      .executeTakeFirstOrThrow();
    expect(tokenRow.used_at).not.toBeNull();
  });

  it("lets exactly one of concurrent uses of one token win", async () => {
    await h.register("race@example.com", { password: "old password" });
    await requestReset("race@example.com");
    const token = await latestToken("PasswordResetRequested");
    const passwords = Array.from({ length: 6 }, (_, i) => `racing password ${i}`);
    const results = await Promise.all(passwords.map((password) => resetWith(token, password)));
    const winners = results.flatMap((result, i) => (result.success ? [passwords[i] ?? ""] : []));
    expect(winners).toHaveLength(1);
    for (const result of results.filter((r) => !r.success)) {
      expect(result.userErrors.map((e) => e.code)).toEqual(["INVALID_TOKEN"]);
    }
    expect((await login("race@example.com", winners[0] ?? "")).userErrors).toEqual([]);
    expect(await h.events("PasswordChanged")).toHaveLength(1);
  });

  it("a newer request supersedes the older token", async () => {
    await h.register("fi@example.com");
    await requestReset("fi@example.com");
    const older = await latestToken("PasswordResetRequested");
    await requestReset("fi@example.com");
    const newer = await latestToken("PasswordResetRequested");
    expect((await resetWith(older)).userErrors.map((e) => e.code)).toEqual(["INVALID_TOKEN"]);
    expect(await resetWith(newer)).toEqual(ok);
  });

  it("leaves exactly one usable token after concurrent requests", async () => {
    await h.register("burst@example.com");
    await Promise.all([1, 2, 3].map((i) => requestReset("burst@example.com", `203.0.113.${i}`)));
    const rows = await h.pg.db
      .selectFrom("account_tokens")
      .selectAll()
      .where("purpose", "=", "reset")
      .execute();
    expect(rows).toHaveLength(3);
    expect(rows.filter((row) => row.superseded_at === null)).toHaveLength(1);
    const tokens = (await h.events("PasswordResetRequested")).map(
      (event) => openFromServices(h.secrets, event.payload.sealedToken) ?? "",
    );
    const results = [];
    for (const token of tokens) results.push(await resetWith(token));
    expect(results.filter((result) => result.success)).toHaveLength(1);
  });

  it("refuses an expired token and one mailed to an address the account no longer has", async () => {
    const ga = await h.register("ga@example.com", { password: "ga password" });
    await requestReset("ga@example.com");
    const token = await latestToken("PasswordResetRequested");
    await h.pg.db
      .updateTable("account_tokens")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where("purpose", "=", "reset")
      .execute();
    expect((await resetWith(token)).userErrors.map((e) => e.code)).toEqual(["TOKEN_EXPIRED"]);

    await requestReset("ga@example.com");
    const beforeChange = await latestToken("PasswordResetRequested");
    const changed = await mutate<{ userErrors: unknown[] }>(
      `mutation ($input: ChangeEmailInput!) { changeEmail(input: $input) { userErrors { code } } }`,
      { input: { newEmail: "ga.new@example.com", currentPassword: "ga password" } },
      bearer(ga.accessToken),
    );
    expect(changed.userErrors).toEqual([]);
    expect((await resetWith(beforeChange)).userErrors.map((e) => e.code)).toEqual(["INVALID_TOKEN"]);
    expect((await login("ga@example.com", "ga password")).userErrors).toEqual([
      { code: "INVALID_CREDENTIALS" },
    ]);
    expect((await login("ga.new@example.com", "ga password")).userErrors).toEqual([]);
  });
});

describe("changeEmail", () => {
  const CHANGE = `mutation ($input: ChangeEmailInput!) {
    changeEmail(input: $input) { user { email emailVerified } userErrors { field code } }
  }`;

  it("needs the password and a free, valid address; the new one is unverified and mailed a link", async () => {
    const ha = await h.register("ha@example.com", { name: "Ha", password: "ha password" });
    await h.register("taken@example.com");
    const auth = bearer(ha.accessToken);
    expect(await verifyWith(await tokenFor("EmailVerificationRequested", rawId(ha.user?.id)))).toEqual(ok);
    const change = (newEmail: string, currentPassword = "ha password") =>
      mutate(CHANGE, { input: { newEmail, currentPassword } }, auth);
    expect(await change("new@example.com", "wrong password")).toEqual({
      user: null,
      userErrors: [{ field: ["input", "currentPassword"], code: "INVALID_CREDENTIALS" }],
    });
    expect(await change("nope")).toEqual({
      user: null,
      userErrors: [{ field: ["input", "newEmail"], code: "INVALID_EMAIL" }],
    });
    expect(await change(" TAKEN@example.com")).toEqual({
      user: null,
      userErrors: [{ field: ["input", "newEmail"], code: "EMAIL_TAKEN" }],
    });
    const before = await h.events();
    expect(await change(" New@Example.com ")).toEqual({
      user: { email: "new@example.com", emailVerified: false },
      userErrors: [],
    });
    const after = (await h.events()).slice(before.length);
    expect(after.map((e) => e.type).sort()).toEqual(["EmailVerificationRequested", "UserChanged"]);
    expect(after.find((e) => e.type === "UserChanged")?.payload).toEqual({
      user: {
        id: rawId(ha.user?.id),
        email: "new@example.com",
        name: "Ha",
        role: "CUSTOMER",
        emailVerified: false,
      },
      changed: ["email", "emailVerified"],
    });
    expect(after.find((e) => e.type === "EmailVerificationRequested")?.payload).toMatchObject({
      email: "new@example.com",
    });
    expect(await verifyWith(await latestToken("EmailVerificationRequested"))).toEqual(ok);
    expect((await h.run("{ me { email emailVerified } }", {}, auth)).data).toEqual({
      me: { email: "new@example.com", emailVerified: true },
    });
  });

  it("refuses anonymous callers", async () => {
    const result = await h.run(CHANGE, {
      input: { newEmail: "x@example.com", currentPassword: "whatever1" },
    });
    expect(result.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });
});

describe("accounts made by staff", () => {
  const CREATE = `mutation ($input: CreateCustomerInput!) {
    createCustomer(input: $input) { user { id email name role emailVerified } userErrors { field code } }
  }`;
  const SET_EMAIL = `mutation ($input: SetUserEmailInput!) {
    setUserEmail(input: $input) { user { id email emailVerified } userErrors { field code } }
  }`;

  it("createCustomer needs users:write:any, makes a passwordless account and mails an invitation that sets a password", async () => {
    const admin = await h.admin("admin@example.com");
    const shopper = await h.register("shopper@example.com");
    const input = { input: { email: " Invited@Example.com", name: " Ivy " } };
    expect((await h.run(CREATE, input)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect((await h.run(CREATE, input, bearer(shopper.accessToken))).errors?.[0]?.extensions?.code).toBe(
      "FORBIDDEN",
    );
    const created = await mutate<{ user: { id: string } }>(CREATE, input, admin);
    expect(created).toEqual({
      user: {
        id: expect.any(String),
        email: "invited@example.com",
        name: "Ivy",
        role: "CUSTOMER",
        emailVerified: false,
      },
      userErrors: [],
    });
    const row = await h.pg.db
      .selectFrom("users")
      .select("password_hash")
      .where("id", "=", rawId(created.user.id))
      .executeTakeFirstOrThrow();
    expect(row.password_hash).toBeNull();
    expect((await h.events("UserRegistered")).at(-1)?.payload.user).toMatchObject({
      id: rawId(created.user.id),
    });
    const [invite] = await h.events("PasswordResetRequested");
    expect(invite?.payload).toMatchObject({
      userId: rawId(created.user.id),
      email: "invited@example.com",
      purpose: "invite",
    });
    const validFor = new Date(invite?.payload.expiresAt ?? "").getTime() - Date.now();
    expect(validFor).toBeGreaterThan(6.9 * 86_400_000);

    expect((await login("invited@example.com", "chosen password")).userErrors).toEqual([
      { code: "INVALID_CREDENTIALS" },
    ]);
    expect(await resetWith(await latestToken("PasswordResetRequested"), "chosen password")).toEqual(ok);
    const signedIn = await login("invited@example.com", "chosen password");
    expect(signedIn.user).toEqual({ id: created.user.id, emailVerified: true });

    expect(await mutate(CREATE, input, admin)).toEqual({
      user: null,
      userErrors: [{ field: ["input", "email"], code: "EMAIL_TAKEN" }],
    });
    expect(await mutate(CREATE, { input: { email: "bad", name: " " } }, admin)).toEqual({
      user: null,
      userErrors: [
        { field: ["input", "email"], code: "INVALID_EMAIL" },
        { field: ["input", "name"], code: "INVALID_NAME" },
      ],
    });
  });

  it("setUserEmail gives an imported customer an email, after which the reset flow lets them in", async () => {
    const admin = await h.admin("admin@example.com");
    await h.register("taken@example.com");
    const imported = await mutate<{ customers: { user: { id: string } }[] }>(
      `mutation ($input: ImportCustomersInput!) { importCustomers(input: $input) { customers { user { id } } } }`,
      { input: { customers: [{ externalId: "C-1" }] } },
      admin,
    );
    const userId = imported.customers[0]?.user.id ?? "";
    expect(await mutate(SET_EMAIL, { input: { userId, email: "taken@example.com" } }, admin)).toEqual({
      user: null,
      userErrors: [{ field: ["input", "email"], code: "EMAIL_TAKEN" }],
    });
    expect(await mutate(SET_EMAIL, { input: { userId, email: "x" } }, admin)).toMatchObject({
      userErrors: [{ code: "INVALID_EMAIL" }],
    });
    for (const unknown of ["not-a-uuid", "00000000-0000-4000-8000-000000000000"]) {
      expect(await mutate(SET_EMAIL, { input: { userId: unknown, email: "y@example.com" } }, admin)).toEqual({
        user: null,
        userErrors: [{ field: ["input", "userId"], code: "NOT_FOUND" }],
      });
    }
    expect(await mutate(SET_EMAIL, { input: { userId, email: "Carla@Example.com" } }, admin)).toEqual({
      user: { id: userId, email: "carla@example.com", emailVerified: false },
      userErrors: [],
    });
    expect((await h.events("UserChanged")).at(-1)?.payload).toMatchObject({
      user: { id: rawId(userId), email: "carla@example.com" },
      changed: ["email"],
    });
    await requestReset("carla@example.com");
    expect(await resetWith(await latestToken("PasswordResetRequested"), "carla's password")).toEqual(ok);
    expect((await login("carla@example.com", "carla's password")).user).toEqual({
      id: userId,
      emailVerified: true,
    });
  });
});

describe("deleteAccount", () => {
  const DELETE = `mutation ($input: DeleteAccountInput!) {
    deleteAccount(input: $input) { success userErrors { field code } }
  }`;

  it("erases personal data, keeps the row, signs out every session and records UserDeleted", async () => {
    const jo = await h.register("jo@example.com", { name: "Jo", password: "jo password" });
    const id = rawId(jo.user?.id);
    const auth = bearer(jo.accessToken);
    await mutate(
      `mutation ($input: AddAddressInput!) { addAddress(input: $input) { userErrors { code } } }`,
      {
        input: {
          address: { name: "Jo", line1: "1 Road", city: "Town", postalCode: "AB1 2CD", countryCode: "GB" },
        },
      },
      auth,
    );
    expect(await mutate(DELETE, { input: { currentPassword: "wrong password" } }, auth)).toEqual({
      success: false,
      userErrors: [{ field: ["input", "currentPassword"], code: "INVALID_CREDENTIALS" }],
    });
    expect(await mutate(DELETE, { input: { currentPassword: "jo password" } }, auth)).toEqual({
      success: true,
      userErrors: [],
    });
    const row = await h.pg.db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      email: null,
      password_hash: null,
      name: "Deleted account",
      email_verified: false,
      deleted_at: expect.any(Date),
    });
    expect(await h.pg.db.selectFrom("addresses").selectAll().execute()).toEqual([]);
    expect(await h.pg.db.selectFrom("account_tokens").selectAll().execute()).toEqual([]);
    expect(await mutate(REFRESH, { token: jo.refreshToken })).toMatchObject({
      userErrors: [{ code: "INVALID_REFRESH_TOKEN" }],
    });
    expect((await login("jo@example.com", "jo password")).userErrors).toEqual([
      { code: "INVALID_CREDENTIALS" },
    ]);
    // Its access token works a few minutes more, but cannot put personal data back.
    const readd = await mutate<{ userErrors: { code: string }[] }>(
      `mutation ($input: AddAddressInput!) { addAddress(input: $input) { userErrors { code } } }`,
      {
        input: {
          address: { name: "Jo", line1: "1 Road", city: "Town", postalCode: "AB1 2CD", countryCode: "GB" },
        },
      },
      auth,
    );
    expect(readd.userErrors).toEqual([{ code: "ACCOUNT_DELETED" }]);
    expect(await h.pg.db.selectFrom("addresses").selectAll().execute()).toEqual([]);
    expect(await h.events("UserDeleted")).toEqual([
      { type: "UserDeleted", aggregateId: id, payload: { userId: id } },
    ]);
    // The address can be used again, and asking to reset it says nothing about the old account.
    expect(await requestReset("jo@example.com")).toEqual(ok);
    expect(await h.events("PasswordResetRequested")).toEqual([]);
    expect((await h.register("jo@example.com")).userErrors).toEqual([]);
    expect(await mutate(DELETE, { input: { currentPassword: "jo password" } }, auth)).toMatchObject({
      success: false,
    });
  });

  it("refuses the last admin, but not an admin who leaves another", async () => {
    const first = await h.admin("first@example.com");
    const remove = (authorization: string) =>
      mutate(DELETE, { input: { currentPassword: "correct horse battery" } }, { authorization });
    expect(await remove(first.authorization)).toEqual({
      success: false,
      userErrors: [{ field: null, code: "LAST_ADMIN" }],
    });
    const second = await h.admin("second@example.com");
    expect(await remove(first.authorization)).toEqual({ success: true, userErrors: [] });
    expect(await remove(second.authorization)).toMatchObject({ userErrors: [{ code: "LAST_ADMIN" }] });
  });
});
