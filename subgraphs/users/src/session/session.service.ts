import { createHash, randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import {
  findFamilyIdByTokenHash,
  insertFamily,
  insertRefreshToken,
  lockRefreshToken,
  markRefreshTokenUsed,
  revokeFamily,
} from "./session.repository.ts";

/**
 * Refresh tokens are 256 random bits, base64url, with a prefix that secret scanners can
 * recognise. Only their SHA-256 is stored: a fast hash is enough for a secret this long, and
 * a stolen table yields nothing usable.
 */
const PREFIX = "nxr_";
const FORMAT = /^nxr_[A-Za-z0-9_-]{43}$/;

export const hashRefreshToken = (token: string): Buffer => createHash("sha256").update(token).digest();
const newRefreshToken = (): string => `${PREFIX}${randomBytes(32).toString("base64url")}`;

export interface Session {
  refreshToken: string;
  /** When the sign-in ends: rotation never extends a family past this. */
  expiresAt: Date;
}

/** Starts a sign-in: a new token family with its first refresh token. */
export async function startSession(
  db: Kysely<Database>,
  userId: string,
  lifetimeSeconds: number,
): Promise<Session> {
  return db.transaction().execute(async (trx) => {
    const family = await insertFamily(trx, userId, lifetimeSeconds);
    const refreshToken = newRefreshToken();
    await insertRefreshToken(trx, family.id, hashRefreshToken(refreshToken));
    return { refreshToken, expiresAt: family.expires_at };
  });
}

export type RotateResult =
  | { ok: true; userId: string; session: Session }
  | { ok: false; code: "INVALID_REFRESH_TOKEN" | "REFRESH_TOKEN_REUSED" };

/**
 * Uses up a refresh token and issues its successor in the same family. A token that was
 * already used means two parties hold the family (the legitimate client and a thief, in
 * either order), so the whole family is revoked and both must sign in again.
 */
export async function rotateRefreshToken(db: Kysely<Database>, token: string): Promise<RotateResult> {
  if (!FORMAT.test(token)) return { ok: false, code: "INVALID_REFRESH_TOKEN" };
  return db.transaction().execute(async (trx): Promise<RotateResult> => {
    const row = await lockRefreshToken(trx, hashRefreshToken(token));
    if (!row || row.revoked_at !== null || row.expired) return { ok: false, code: "INVALID_REFRESH_TOKEN" };
    if (row.used_at !== null) {
      await revokeFamily(trx, row.family_id, "reuse");
      return { ok: false, code: "REFRESH_TOKEN_REUSED" };
    }
    await markRefreshTokenUsed(trx, row.id);
    const refreshToken = newRefreshToken();
    await insertRefreshToken(trx, row.family_id, hashRefreshToken(refreshToken));
    return { ok: true, userId: row.user_id, session: { refreshToken, expiresAt: row.expires_at } };
  });
}

/** Revokes the family a refresh token belongs to; unknown tokens are ignored. */
export async function endSession(db: Kysely<Database>, token: string): Promise<void> {
  if (!FORMAT.test(token)) return;
  const familyId = await findFamilyIdByTokenHash(db, hashRefreshToken(token));
  if (familyId) await revokeFamily(db, familyId, "logout");
}
