import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import type { SubgraphSecrets } from "./subgraph-auth.ts";

/**
 * Seals a short secret (a password-reset or verification token) for another Nexus service:
 * AES-256-GCM under a key derived from the subgraph secret every service of a deployment shares.
 * Events carry sealed tokens, so the outbox table, Redis and job logs never hold a usable one.
 */
export function sealForServices(secrets: SubgraphSecrets, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", sealingKey(secrets.current), iv);
  const sealed = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return `v1.${iv.toString("base64url")}.${sealed.toString("base64url")}`;
}

/**
 * Opens what `sealForServices` sealed, with the current secret or, during a rotation, the
 * previous one. Null when neither opens it (tampered, or sealed under another secret).
 */
export function openFromServices(secrets: SubgraphSecrets, sealed: string): string | null {
  const [version, iv, body] = sealed.split(".");
  if (version !== "v1" || !iv || !body) return null;
  const bytes = Buffer.from(body, "base64url");
  if (bytes.length < 16) return null;
  for (const secret of [secrets.current, secrets.previous]) {
    if (!secret) continue;
    try {
      const decipher = createDecipheriv("aes-256-gcm", sealingKey(secret), Buffer.from(iv, "base64url"));
      decipher.setAuthTag(bytes.subarray(bytes.length - 16));
      return Buffer.concat([
        decipher.update(bytes.subarray(0, bytes.length - 16)),
        decipher.final(),
      ]).toString("utf8");
    } catch {
      // Not sealed under this secret; try the next.
    }
  }
  return null;
}

const sealingKey = (secret: string): Buffer =>
  Buffer.from(hkdfSync("sha256", secret, "nexus-seal", "service-to-service tokens v1", 32));
