import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync } from "node:fs";
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "./logger.ts";

/**
 * How a subgraph knows its caller is the gateway (or another Nexus service): every request
 * carries an HMAC-SHA256 signature, made with a secret they share, over the time it was sent
 * and its exact body:
 *
 *     x-nexus-signature: t=1767225600,v1=<base64url HMAC(secret, "1767225600." + body)>
 *
 * Why a signature rather than the secret itself in a header: the secret never travels, so a
 * captured request (a proxy log, a packet trace) does not hand out the keys. Its header is
 * good for {@link SIGNATURE_MAX_AGE_SECONDS} and only for that one body: it cannot carry
 * another operation, and replaying the very same request is bounded to that window.
 *
 * Rotation without downtime: `SUBGRAPH_SECRET` signs and is accepted, `SUBGRAPH_SECRET_PREVIOUS`
 * is accepted and signs too, so a caller with both sends two `v1=` signatures. Set the new
 * secret as SUBGRAPH_SECRET and the old one as SUBGRAPH_SECRET_PREVIOUS on every service, in
 * any order; once all run with both, drop SUBGRAPH_SECRET_PREVIOUS, again in any order. At
 * every step each caller and each subgraph share at least one secret.
 */
export const SUBGRAPH_SIGNATURE_HEADER = "x-nexus-signature";

/**
 * The `www-authenticate` challenge of a subgraph's 401 to an unsigned or wrongly signed call:
 * how a caller tells "you are not the gateway" from a 401 about the request (an unknown API key).
 */
export const SUBGRAPH_AUTH_CHALLENGE = "NexusSignature";

/** How old (or, for clock skew, how far ahead) a signature may be. */
export const SIGNATURE_MAX_AGE_SECONDS = 60;

/** Shortest secret accepted: 32 characters of `openssl rand -base64 32` are 24 random bytes. */
export const SUBGRAPH_SECRET_MIN_LENGTH = 32;

/** Signatures looked at in one header; a caller sends one, or two while rotating. */
const MAX_SIGNATURES = 4;

export interface SubgraphSecrets {
  /** Signs, and is accepted. */
  current: string;
  /** During a rotation, the secret being replaced: still accepted, and also signed with. */
  previous?: string | undefined;
}

/** The signature header's value for a request with this body, sent now. */
export function signSubgraphRequest(
  secrets: SubgraphSecrets,
  body: string | Uint8Array,
  now: number = Date.now(),
): string {
  const timestamp = Math.floor(now / 1000);
  const signatures = secretsOf(secrets).map((secret) => `v1=${mac(secret, timestamp, body)}`);
  return [`t=${timestamp}`, ...signatures].join(",");
}

/** The headers that authenticate a request with this body: add them to every call to a subgraph. */
export function subgraphAuthHeaders(
  secrets: SubgraphSecrets,
  body: string | Uint8Array = "",
): Record<string, string> {
  return { [SUBGRAPH_SIGNATURE_HEADER]: signSubgraphRequest(secrets, body) };
}

/**
 * Whether the header holds a fresh signature of this body by one of the secrets. Every
 * signature is compared with every secret in constant time, with no early exit, so the time
 * taken tells nothing about how close a guess was.
 */
export function verifySubgraphSignature(
  secrets: SubgraphSecrets,
  header: string | undefined,
  body: string | Uint8Array,
  now: number = Date.now(),
): boolean {
  if (header === undefined) return false;
  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(",")) {
    const [key, value = ""] = part.trim().split("=", 2);
    if (key === "t" && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === "v1" && signatures.length < MAX_SIGNATURES)
      signatures.push(Buffer.from(value, "base64url"));
  }
  if (timestamp === undefined || Math.abs(now / 1000 - timestamp) > SIGNATURE_MAX_AGE_SECONDS) return false;
  let valid = false;
  for (const secret of secretsOf(secrets)) {
    const expected = Buffer.from(mac(secret, timestamp, body), "base64url");
    for (const signature of signatures) {
      if (signature.length === expected.length && timingSafeEqual(signature, expected)) valid = true;
    }
  }
  return valid;
}

/**
 * What a subgraph's HTTP server asks of a request (`startHttpServer`'s `authenticate`): signed
 * by a holder of the secret, unsigned, or signed wrongly (a stale, forged or foreign signature).
 */
export type CallerCheck = "authenticated" | "unsigned" | "refused";

export function createSubgraphAuthenticator(
  secrets: SubgraphSecrets,
): (req: IncomingMessage, body: string) => CallerCheck {
  return (req, body) => {
    const value = req.headers[SUBGRAPH_SIGNATURE_HEADER];
    const header = Array.isArray(value) ? value[0] : value;
    if (header === undefined) return "unsigned";
    return verifySubgraphSignature(secrets, header, body) ? "authenticated" : "refused";
  };
}

/** Where a development secret is kept between restarts, next to the signing key; git ignores `.nexus/`. */
export const DEV_SUBGRAPH_SECRET_PATH = fileURLToPath(
  new URL("../../../.nexus/subgraph-secret", import.meta.url),
);

/** The secret settings every service reads (`serviceConfigSchema`). */
export interface SubgraphSecretConfig {
  production: boolean;
  subgraphSecret: string | undefined;
  subgraphSecretPrevious: string | undefined;
}

/**
 * The configured secrets or, outside production, one generated on first start and kept in
 * `.nexus/subgraph-secret`, which every service on this machine then shares. Production
 * refuses to start without SUBGRAPH_SECRET (`serviceConfigSchema`). The secret is never logged.
 */
export async function loadSubgraphSecrets(
  config: SubgraphSecretConfig,
  logger: Logger,
  path: string = DEV_SUBGRAPH_SECRET_PATH,
): Promise<SubgraphSecrets> {
  if (config.subgraphSecret) {
    return { current: config.subgraphSecret, previous: config.subgraphSecretPrevious };
  }
  if (config.production) throw new Error("SUBGRAPH_SECRET is required when NODE_ENV=production.");
  if (!existsSync(path)) await createSecretFile(path);
  const current = (await readFile(path, "utf8")).trim();
  if (current.length < SUBGRAPH_SECRET_MIN_LENGTH) {
    throw new Error(`${path} holds no usable secret: delete it and start again.`);
  }
  logger.info("SUBGRAPH_SECRET is not set: using the development secret", { path });
  return { current };
}

/** A new random secret, as `openssl rand -base64url 32` would make it. */
export function generateSubgraphSecret(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * Writes a new secret under a temporary name and links it into place, which fails when the
 * file exists: services starting side by side all end up reading the one that won, complete.
 */
async function createSecretFile(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  await writeFile(temporary, `${generateSubgraphSecret()}\n`, { mode: 0o600 });
  try {
    await link(temporary, path);
  } catch (error) {
    if (!(error instanceof Error && "code" in error && error.code === "EEXIST")) throw error;
  } finally {
    await unlink(temporary);
  }
}

function secretsOf(secrets: SubgraphSecrets): string[] {
  return secrets.previous ? [secrets.current, secrets.previous] : [secrets.current];
}

function mac(secret: string, timestamp: number, body: string | Uint8Array): string {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("base64url");
}
