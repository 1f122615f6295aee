/**
 * What identity costs per request: an argon2id hash at the OWASP parameters (every register
 * and password change), a verify (every login), and verifying an access token (every request,
 * at the gateway and again in each subgraph it reaches).
 */
import { createTokenSigner, createTokenVerifier, ROLE_SCOPES } from "@nexus/core";
import { createTestAuth, TEST_TOKEN_AUDIENCE } from "@nexus/testing";
import { verify } from "@node-rs/argon2";
import { beforeAll, test } from "vitest";
import { hashPassword } from "../user/user.service.ts";

let storedHash: string;
let authorization: string;
let verifyToken: ReturnType<typeof createTokenVerifier>;

beforeAll(async () => {
  storedHash = await hashPassword("correct horse battery");
  const { privateKeyPem } = await createTestAuth();
  const signer = await createTokenSigner({ ...TEST_TOKEN_AUDIENCE, privateKeyPem, ttlSeconds: 900 });
  authorization = `Bearer ${(await signer.sign({ sub: "user-1", role: "ADMIN", scopes: ROLE_SCOPES.ADMIN })).token}`;
  verifyToken = createTokenVerifier({ ...TEST_TOKEN_AUDIENCE, jwks: signer.jwks });
});

test("argon2id (m=19456 KiB, t=2, p=1)", async ({ bench }) => {
  await bench.compare(
    bench("hash a password (register, change password)", async () => {
      await hashPassword("correct horse battery");
    }),
    bench("verify a password (login)", async () => {
      await verify(storedHash, "correct horse battery");
    }),
    { time: 3000 },
  );
});

test("access token verification (ES256, cached key set)", async ({ bench }) => {
  await bench("verify the Authorization header of one request", async () => {
    await verifyToken(authorization);
  }).run({ time: 2000 });
});
