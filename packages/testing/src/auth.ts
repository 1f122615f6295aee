import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  createTokenSigner,
  createTokenVerifier,
  ROLE_SCOPES,
  type Role,
  type VerifyAuthorization,
} from "@nexus/core";
import { exportPKCS8, generateKeyPair, type JSONWebKeySet } from "jose";

export const TEST_TOKEN_AUDIENCE = { issuer: "nexus-test", audience: "nexus-test" } as const;

export interface TestAuth {
  verify: VerifyAuthorization;
  privateKeyPem: string;
  jwks: JSONWebKeySet;
  /** `Bearer <token>` for a user, ready for an Authorization header; `clientId` names a partner client. */
  bearer(userId: string, role?: Role, options?: { clientId?: string }): Promise<string>;
}

/** A throwaway ES256 key pair: real signing and verification, no users subgraph needed. */
export async function createTestAuth(): Promise<TestAuth> {
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  const privateKeyPem = await exportPKCS8(privateKey);
  const signer = await createTokenSigner({ ...TEST_TOKEN_AUDIENCE, privateKeyPem, ttlSeconds: 900 });
  return {
    privateKeyPem,
    jwks: signer.jwks,
    verify: createTokenVerifier({ ...TEST_TOKEN_AUDIENCE, jwks: signer.jwks }),
    async bearer(userId, role = "CUSTOMER", options = {}) {
      const { token } = await signer.sign({
        sub: userId,
        role,
        scopes: ROLE_SCOPES[role],
        ...(options.clientId !== undefined ? { clientId: options.clientId } : {}),
      });
      return `Bearer ${token}`;
    },
  };
}

/**
 * Serves a key set over HTTP, as the users subgraph does, for services started with JWKS_URL.
 * Returns the URL to give them and a function that stops the server.
 */
export async function serveJwks(jwks: JSONWebKeySet): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
