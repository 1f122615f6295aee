import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportPKCS8, exportSPKI, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTokenSigner,
  createTokenVerifier,
  type TokenSigner,
  type VerifyAuthorization,
} from "./auth.ts";

const AUDIENCE = { issuer: "nexus-test", audience: "nexus-test" };
const now = () => Math.floor(Date.now() / 1000);

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

let privateKey: PrivateKey;
let publicPem: string;
let signer: TokenSigner;
let verify: VerifyAuthorization;
let kid: string;

beforeAll(async () => {
  const pair = await generateKeyPair("ES256", { extractable: true });
  privateKey = pair.privateKey;
  publicPem = await exportSPKI(pair.publicKey);
  signer = await createTokenSigner({
    ...AUDIENCE,
    privateKeyPem: await exportPKCS8(privateKey),
    ttlSeconds: 900,
  });
  verify = createTokenVerifier({ ...AUDIENCE, jwks: signer.jwks });
  kid = signer.jwks.keys[0]?.kid ?? "";
});

/** A token like the signer's, with any header or claim changed. */
function forge(
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
  key: PrivateKey | Uint8Array = privateKey,
) {
  const payload = {
    iss: AUDIENCE.issuer,
    aud: AUDIENCE.audience,
    sub: "user-1",
    jti: "jti-1",
    iat: now(),
    exp: now() + 600,
    role: "CUSTOMER",
    scope: "",
    ...claims,
  };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid, ...header } as { alg: string })
    .sign(key);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

async function expectRejected(token: string) {
  await expect(verify(`Bearer ${token}`)).rejects.toMatchObject({
    extensions: { code: "UNAUTHENTICATED", http: { status: 401 } },
  });
}

describe("access tokens", () => {
  it("carry iss, aud, sub, role, scope, jti, iat, exp, typ at+jwt and the key id", async () => {
    const { token, expiresAt } = await signer.sign({ sub: "user-1", role: "ADMIN", scopes: ["a:b", "c"] });
    const [header, payload] = token
      .split(".")
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, "base64url").toString()));
    expect(header).toEqual({ alg: "ES256", typ: "at+jwt", kid });
    expect(payload).toMatchObject({
      iss: "nexus-test",
      aud: "nexus-test",
      sub: "user-1",
      role: "ADMIN",
      scope: "a:b c",
    });
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(payload.exp - payload.iat).toBe(900);
    expect(expiresAt.getTime()).toBe(payload.exp * 1000);
    expect(await verify(`Bearer ${token}`)).toEqual({
      userId: "user-1",
      role: "ADMIN",
      scopes: ["a:b", "c"],
      tokenId: payload.jti,
    });
  });

  it("treats a request without Authorization as anonymous", async () => {
    expect(await verify(undefined)).toBeNull();
    expect(await verify("  ")).toBeNull();
  });
});

describe("verification rejects", () => {
  it("alg none", async () => {
    const payload = { iss: "nexus-test", aud: "nexus-test", sub: "user-1", role: "ADMIN", exp: now() + 600 };
    await expectRejected(`${b64({ alg: "none", typ: "at+jwt" })}.${b64(payload)}.`);
    await expectRejected(`${b64({ alg: "none", typ: "at+jwt", kid })}.${b64(payload)}.`);
  });

  it("HMAC signed with the public key as the secret", async () => {
    const secret = new TextEncoder().encode(publicPem);
    await expectRejected(await forge({ role: "ADMIN" }, { alg: "HS256" }, secret));
    const jwkSecret = new TextEncoder().encode(JSON.stringify(signer.jwks.keys[0]));
    await expectRejected(await forge({ role: "ADMIN" }, { alg: "HS256" }, jwkSecret));
  });

  it("a wrong issuer, audience or type", async () => {
    await expectRejected(await forge({ iss: "someone-else" }));
    await expectRejected(await forge({ aud: "another-api" }));
    await expectRejected(await forge({}, { typ: "JWT" }));
    await expectRejected(await forge({}, { typ: undefined }));
  });

  it("expired and not-yet-valid tokens", async () => {
    await expectRejected(await forge({ exp: now() - 1 }));
    await expectRejected(await forge({ nbf: now() + 300 }));
  });

  it("a key id it does not know, and a key it does not know under a known id", async () => {
    const stranger = await generateKeyPair("ES256");
    await expectRejected(await forge({}, { kid: "unknown-kid" }, stranger.privateKey));
    await expectRejected(await forge({}, {}, stranger.privateKey));
  });

  it("a tampered signature or payload", async () => {
    const token = await forge();
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const flipped = `${signature.slice(0, 10)}${signature[10] === "A" ? "B" : "A"}${signature.slice(11)}`;
    await expectRejected(`${header}.${payload}.${flipped}`);
    const escalated = b64({ ...JSON.parse(Buffer.from(payload, "base64url").toString()), role: "ADMIN" });
    await expectRejected(`${header}.${escalated}.${signature}`);
  });

  it("tokens without a subject or with an unknown role", async () => {
    await expectRejected(await forge({ role: "ROOT" }));
    await expectRejected(
      await new SignJWT({ role: "CUSTOMER" })
        .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid })
        .setIssuer(AUDIENCE.issuer)
        .setAudience(AUDIENCE.audience)
        .setExpirationTime(now() + 600)
        .sign(privateKey),
    );
  });

  it("headers that are not 'Bearer <token>'", async () => {
    for (const header of ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "Token abc"]) {
      await expect(verify(header)).rejects.toMatchObject({ extensions: { code: "UNAUTHENTICATED" } });
    }
  });
});

describe("key rotation", () => {
  let jwksServer: ReturnType<typeof createServer>;
  let published: object = { keys: [] };
  let jwksUrl = "";

  beforeAll(async () => {
    jwksServer = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(published));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(() => new Promise((resolve) => jwksServer.close(resolve)));

  it("keeps tokens of a retired key valid while it is published, and only then", async () => {
    const oldPair = await generateKeyPair("ES256", { extractable: true });
    const newPair = await generateKeyPair("ES256", { extractable: true });
    const oldSigner = await createTokenSigner({
      ...AUDIENCE,
      privateKeyPem: await exportPKCS8(oldPair.privateKey),
      ttlSeconds: 900,
    });
    const oldToken = (await oldSigner.sign({ sub: "user-1", role: "CUSTOMER", scopes: [] })).token;

    // Rotated: the new key signs, the old public key is still published.
    const rotated = await createTokenSigner({
      ...AUDIENCE,
      privateKeyPem: await exportPKCS8(newPair.privateKey),
      retiredPublicKeysPem: await exportSPKI(oldPair.publicKey),
      ttlSeconds: 900,
    });
    expect(rotated.jwks.keys.map((key) => key.kid)).toEqual([
      expect.not.stringMatching(oldSigner.jwks.keys[0]?.kid ?? ""),
      oldSigner.jwks.keys[0]?.kid,
    ]);
    published = rotated.jwks;
    const remote = createTokenVerifier({ ...AUDIENCE, jwksUrl });
    const newToken = (await rotated.sign({ sub: "user-2", role: "CUSTOMER", scopes: [] })).token;
    expect(await remote(`Bearer ${oldToken}`)).toMatchObject({ userId: "user-1" });
    expect(await remote(`Bearer ${newToken}`)).toMatchObject({ userId: "user-2" });

    // Retired for good: a fresh verifier (no cached keys) no longer accepts the old token.
    published = { keys: [rotated.jwks.keys[0]] };
    const fresh = createTokenVerifier({ ...AUDIENCE, jwksUrl });
    await expect(fresh(`Bearer ${oldToken}`)).rejects.toMatchObject({
      extensions: { code: "UNAUTHENTICATED" },
    });
    expect(await fresh(`Bearer ${newToken}`)).toMatchObject({ userId: "user-2" });
  });
});
