import { randomUUID } from "node:crypto";
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  createRemoteJWKSet,
  exportJWK,
  importPKCS8,
  importSPKI,
  type JSONWebKeySet,
  type JWK,
  jwtVerify,
  SignJWT,
} from "jose";
import { forbidden, graphQLError, unauthenticated } from "./errors.ts";

export const ROLES = ["CUSTOMER", "ADMIN", "PARTNER"] as const;
export type Role = (typeof ROLES)[number];

/** Who is making the request, as proven by a verified access token. */
export interface Viewer {
  userId: string;
  role: Role;
  scopes: readonly string[];
  tokenId: string;
  /** For partner clients: the client's name (the token's `client_id` claim). */
  clientName?: string;
  /** Whether the account's email was verified when the token was issued (`email_verified`). */
  emailVerified?: boolean;
}

export interface TokenAudience {
  issuer: string;
  audience: string;
}

/** Access tokens are JWTs with an explicit type so that no other JWT can stand in for one. */
const ACCESS_TOKEN_TYPE = "at+jwt";
const ALGORITHM = "ES256";

const invalidToken = (message: string) => graphQLError("UNAUTHENTICATED", message, { http: { status: 401 } });

export type VerifyAuthorization = (authorization: string | undefined) => Promise<Viewer | null>;

/**
 * Verifies `Authorization: Bearer <jwt>` headers. No header means an anonymous request
 * (`null`); a header that does not hold a valid token is an UNAUTHENTICATED error, never
 * silently anonymous, so a client with an expired token learns it must refresh. The error
 * carries HTTP status 401, which Apollo Server applies when it is thrown while building context.
 */
export function createTokenVerifier(
  options: TokenAudience & ({ jwksUrl: string } | { jwks: JSONWebKeySet }),
): VerifyAuthorization {
  const keySet =
    "jwksUrl" in options
      ? createRemoteJWKSet(new URL(options.jwksUrl), { cooldownDuration: 30_000, cacheMaxAge: 600_000 })
      : createLocalJWKSet(options.jwks);

  return async (authorization) => {
    if (authorization === undefined || authorization.trim() === "") return null;
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match?.[1]) throw invalidToken("The Authorization header must be 'Bearer <access token>'.");
    try {
      const { payload } = await jwtVerify(match[1], keySet, {
        issuer: options.issuer,
        audience: options.audience,
        typ: ACCESS_TOKEN_TYPE,
        algorithms: [ALGORITHM],
      });
      const role = payload.role;
      if (typeof payload.sub !== "string" || !ROLES.includes(role as Role)) {
        throw new Error("token lacks sub or role");
      }
      return {
        userId: payload.sub,
        role: role as Role,
        scopes: typeof payload.scope === "string" ? payload.scope.split(" ").filter(Boolean) : [],
        tokenId: typeof payload.jti === "string" ? payload.jti : "",
        ...(typeof payload.client_id === "string" ? { clientName: payload.client_id } : {}),
        ...(typeof payload.email_verified === "boolean" ? { emailVerified: payload.email_verified } : {}),
      };
    } catch (error) {
      if (error instanceof Error && "code" in error && error.code === "ERR_JWKS_NO_MATCHING_KEY") {
        throw invalidToken("The access token was signed by an unknown key.");
      }
      throw invalidToken("The access token is invalid or has expired.");
    }
  };
}

export interface TokenClaims {
  sub: string;
  role: Role;
  scopes: readonly string[];
  /** Names the partner client a token was issued to (RFC 9068 `client_id`). */
  clientId?: string;
  /** The OpenID Connect `email_verified` claim; orders reads it when checkout needs a verified email. */
  emailVerified?: boolean;
}

export interface TokenSigner {
  sign(claims: TokenClaims, ttlSeconds?: number): Promise<{ token: string; expiresAt: Date }>;
  /**
   * The public keys, served at /.well-known/jwks.json for every verifier: the signing key
   * first, then retired keys that tokens still in circulation may have been signed with.
   */
  jwks: JSONWebKeySet;
}

/** Splits a run of PEM blocks (e.g. one environment variable holding several keys). */
export const splitPemBlocks = (pems: string): string[] =>
  pems.match(/-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g) ?? [];

async function publicJwk(key: Parameters<typeof exportJWK>[0]): Promise<JWK> {
  const { d: _secret, ...jwk } = await exportJWK(key);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: ALGORITHM, use: "sig" };
}

/**
 * Signs ES256 access tokens with the given PKCS#8 private key; the key id is its JWK
 * thumbprint. To rotate, sign with the new key and list the old public key (SPKI PEM) in
 * `retiredPublicKeysPem` until the longest-lived token it signed has expired.
 */
export async function createTokenSigner(
  options: TokenAudience & { privateKeyPem: string; ttlSeconds: number; retiredPublicKeysPem?: string },
): Promise<TokenSigner> {
  const privateKey = await importPKCS8(options.privateKeyPem, ALGORITHM, { extractable: true });
  const current = await publicJwk(privateKey);
  const kid = current.kid as string;
  const retired: JWK[] = [];
  for (const pem of splitPemBlocks(options.retiredPublicKeysPem ?? "")) {
    const jwk = await publicJwk(await importSPKI(pem, ALGORITHM, { extractable: true }));
    if (jwk.kid !== kid) retired.push(jwk);
  }

  return {
    jwks: { keys: [current, ...retired] },
    async sign({ sub, role, scopes, clientId, emailVerified }, ttlSeconds = options.ttlSeconds) {
      const issuedAt = Math.floor(Date.now() / 1000);
      const expiresAt = new Date((issuedAt + ttlSeconds) * 1000);
      const token = await new SignJWT({
        role,
        scope: scopes.join(" "),
        ...(clientId ? { client_id: clientId } : {}),
        ...(emailVerified === undefined ? {} : { email_verified: emailVerified }),
      })
        .setProtectedHeader({ alg: ALGORITHM, typ: ACCESS_TOKEN_TYPE, kid })
        .setIssuer(options.issuer)
        .setAudience(options.audience)
        .setSubject(sub)
        .setJti(randomUUID())
        .setIssuedAt(issuedAt)
        .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
        .sign(privateKey);
      return { token, expiresAt };
    },
  };
}

export function requireViewer(viewer: Viewer | null): Viewer {
  if (!viewer) throw unauthenticated();
  return viewer;
}

export function requireRole(viewer: Viewer | null, role: Role): Viewer {
  const signedIn = requireViewer(viewer);
  if (signedIn.role !== role) throw forbidden(`Only ${role} accounts may do this.`);
  return signedIn;
}
