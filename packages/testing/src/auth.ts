import {
  createTokenSigner,
  createTokenVerifier,
  ROLE_SCOPES,
  type Role,
  type VerifyAuthorization,
} from "@nexus/core";
import { exportPKCS8, generateKeyPair } from "jose";

export const TEST_TOKEN_AUDIENCE = { issuer: "nexus-test", audience: "nexus-test" } as const;

export interface TestAuth {
  verify: VerifyAuthorization;
  privateKeyPem: string;
  /** `Bearer <token>` for a user, ready for an Authorization header. */
  bearer(userId: string, role?: Role): Promise<string>;
}

/** A throwaway ES256 key pair: real signing and verification, no users subgraph needed. */
export async function createTestAuth(): Promise<TestAuth> {
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  const privateKeyPem = await exportPKCS8(privateKey);
  const signer = await createTokenSigner({ ...TEST_TOKEN_AUDIENCE, privateKeyPem, ttlSeconds: 900 });
  return {
    privateKeyPem,
    verify: createTokenVerifier({ ...TEST_TOKEN_AUDIENCE, jwks: signer.jwks }),
    async bearer(userId, role = "CUSTOMER") {
      const { token } = await signer.sign({ sub: userId, role, scopes: ROLE_SCOPES[role] });
      return `Bearer ${token}`;
    },
  };
}
