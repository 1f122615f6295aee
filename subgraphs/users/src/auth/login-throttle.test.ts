import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AuthData, createTestEnv, type TestEnv } from "../test-env.ts";

let h: TestEnv;
beforeAll(async () => {
  h = await createTestEnv({
    login: { maxAttemptsPerAccount: 5, maxAttemptsPerClient: 12, windowSeconds: 60 },
  });
});
afterAll(() => h?.close());
beforeEach(() => h.reset());

const LOGIN = `mutation ($input: LoginInput!) { login(input: $input) { accessToken userErrors { field code message } } }`;

async function login(email: string, password: string, clientIp = "198.51.100.1") {
  const result = await h.run(LOGIN, { input: { email, password } }, { clientIp });
  expect(result.errors).toBeUndefined();
  return (result.data as { login: Pick<AuthData, "accessToken" | "userErrors"> }).login;
}

const code = (payload: { userErrors: { code: string }[] }) => payload.userErrors[0]?.code ?? "OK";

describe("login throttling", () => {
  it("allows 5 attempts per account per window, then refuses even the right password", async () => {
    await h.register("victim@example.com", { password: "the right one" });
    const attempts = [];
    for (let i = 0; i < 5; i++)
      attempts.push(code(await login("victim@example.com", `guess ${i}`, `203.0.113.${i}`)));
    expect(attempts).toEqual(Array(5).fill("INVALID_CREDENTIALS"));
    const blocked = await login("VICTIM@example.com", "the right one", "203.0.113.99");
    expect(blocked.accessToken).toBeNull();
    expect(blocked.userErrors).toEqual([
      {
        field: null,
        code: "RATE_LIMITED",
        message: expect.stringMatching(/^Too many sign-in attempts\. Try again in \d+ seconds?\.$/),
      },
    ]);
  });

  it("throttles unknown emails exactly like known ones, so it reveals no account", async () => {
    await h.register("known@example.com");
    const known = [];
    const unknown = [];
    for (let i = 0; i < 6; i++) {
      known.push(await login("known@example.com", "wrong password", `192.0.2.${i}`));
      unknown.push(await login("unknown@example.com", "wrong password", `192.0.2.${i + 50}`));
    }
    expect(known).toEqual(unknown);
    expect(known.map(code)).toEqual([...Array(5).fill("INVALID_CREDENTIALS"), "RATE_LIMITED"]);
  });

  it("limits one client address across many accounts, and not other addresses", async () => {
    const results = [];
    for (let i = 0; i < 13; i++)
      results.push(code(await login(`spray${i}@example.com`, "password1", "198.51.100.7")));
    expect(results).toEqual([...Array(12).fill("INVALID_CREDENTIALS"), "RATE_LIMITED"]);
    expect(code(await login("spray99@example.com", "password1", "198.51.100.8"))).toBe("INVALID_CREDENTIALS");
  });

  it("counts concurrent attempts before checking passwords, so a burst cannot slip past", async () => {
    await h.register("burst@example.com");
    const results = await Promise.all(
      Array.from({ length: 15 }, (_, i) => login("burst@example.com", `guess ${i}`, `203.0.113.${100 + i}`)),
    );
    expect(results.filter((result) => code(result) === "INVALID_CREDENTIALS")).toHaveLength(5);
    expect(results.filter((result) => code(result) === "RATE_LIMITED")).toHaveLength(10);
  });

  it("starts the account's count over after a successful sign-in", async () => {
    await h.register("forgetful@example.com", { password: "finally right" });
    for (let i = 0; i < 4; i++) await login("forgetful@example.com", "wrong password");
    expect(code(await login("forgetful@example.com", "finally right"))).toBe("OK");
    for (let i = 0; i < 4; i++)
      expect(code(await login("forgetful@example.com", "wrong again"))).toBe("INVALID_CREDENTIALS");
  });
});
