import { createHash, randomBytes } from "node:crypto";
import { type SubgraphSecrets, sealForServices } from "@nexus/core";
import { appendToOutbox } from "@nexus/events";
import type { Transaction } from "kysely";
import type { AccountTokenPurpose, Database } from "../db/database.ts";
import { insertToken, supersedeTokens, TOKEN_FAMILIES } from "./account-token.repository.ts";

/** How long each kind of mailed token works, in seconds. */
export interface AccountTokenLifetimes {
  resetTtlSeconds: number;
  inviteTtlSeconds: number;
  verifyTtlSeconds: number;
}

/** What issuing a mailed token needs: the secret it is sealed under for the mailer, and lifetimes. */
export interface AccountTokenDeps {
  secrets: SubgraphSecrets;
  accountTokens: AccountTokenLifetimes;
}

/** 256 random bits, base64url: 43 characters. */
export const ACCOUNT_TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;

/** Only the SHA-256 is stored: a fast hash suffices for a random secret this long. */
export const hashAccountToken = (token: string): Buffer => createHash("sha256").update(token).digest();

const lifetimeOf = (lifetimes: AccountTokenLifetimes, purpose: AccountTokenPurpose): number =>
  purpose === "reset"
    ? lifetimes.resetTtlSeconds
    : purpose === "invite"
      ? lifetimes.inviteTtlSeconds
      : lifetimes.verifyTtlSeconds;

/**
 * Makes a single-use token for the account's current email, replacing the unused ones of its
 * kind, and records the event that has it mailed, in the caller's transaction. The token leaves
 * only sealed, inside the event: neither the database nor the queue holds a usable one.
 */
export async function issueAccountToken(
  trx: Transaction<Database>,
  deps: AccountTokenDeps,
  user: { id: string; email: string; name: string },
  purpose: AccountTokenPurpose,
): Promise<void> {
  await supersedeTokens(trx, user.id, TOKEN_FAMILIES[purpose]);
  const token = randomBytes(32).toString("base64url");
  const { expires_at } = await insertToken(trx, {
    userId: user.id,
    purpose,
    tokenHash: hashAccountToken(token),
    email: user.email,
    lifetimeSeconds: lifetimeOf(deps.accountTokens, purpose),
  });
  const mailed = {
    userId: user.id,
    email: user.email,
    name: user.name,
    sealedToken: sealForServices(deps.secrets, token),
    expiresAt: expires_at.toISOString(),
  };
  if (purpose === "verify") {
    await appendToOutbox(trx, "EmailVerificationRequested", user.id, mailed);
  } else {
    await appendToOutbox(trx, "PasswordResetRequested", user.id, { ...mailed, purpose });
  }
}
