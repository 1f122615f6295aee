import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "@nexus/core";
import { exportPKCS8, generateKeyPair } from "jose";

/** Where a development signing key is kept between restarts; git ignores `.nexus/`. */
export const DEV_KEY_PATH = fileURLToPath(new URL("../../../../.nexus/jwt-private-key.pem", import.meta.url));

/**
 * The configured key, or in development a generated one saved under `.nexus/` so tokens
 * stay valid across restarts. Production refuses to start without JWT_PRIVATE_KEY (config.ts).
 */
export async function loadSigningKey(configured: string | undefined, logger: Logger): Promise<string> {
  if (configured) return configured;
  if (existsSync(DEV_KEY_PATH)) return readFile(DEV_KEY_PATH, "utf8");
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  const pem = await exportPKCS8(privateKey);
  await mkdir(dirname(DEV_KEY_PATH), { recursive: true });
  await writeFile(DEV_KEY_PATH, pem, { mode: 0o600, flag: "wx" }).catch(async (error: unknown) => {
    // Another process won the race to create it; use theirs so both sign with one key.
    if (!(error instanceof Error && "code" in error && error.code === "EEXIST")) throw error;
  });
  logger.warn("JWT_PRIVATE_KEY is not set: using a development signing key", { path: DEV_KEY_PATH });
  return readFile(DEV_KEY_PATH, "utf8");
}
