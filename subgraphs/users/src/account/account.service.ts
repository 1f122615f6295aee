import { isUuid, type Logger, userError } from "@nexus/core";
import { appendToOutbox } from "@nexus/events";
import type { Transaction } from "kysely";
import { deleteAddressesOfUser } from "../address/address.repository.ts";
import type { AccountMailThrottle } from "../auth/account-mail-throttle.ts";
import type { Database } from "../db/database.ts";
import { revokeFamiliesOfUser } from "../session/session.repository.ts";
import { appendUserChanged, publishCommitted, type UserChange } from "../user/user.events.ts";
import { toUserModel, type UserModel } from "../user/user.model.ts";
import {
  countAdmins,
  findUserByEmail,
  findUserById,
  isEmailTaken,
  lockUser,
  lockUserById,
  type UserRow,
  updateUser,
} from "../user/user.repository.ts";
import {
  type AccountChangeDeps,
  EMAIL_TAKEN,
  emailErrors,
  hashPassword,
  insertAccount,
  nameErrors,
  normalizeEmail,
  passwordErrors,
  passwordMatches,
} from "../user/user.service.ts";
import type { UserError } from "../user-error.ts";
import {
  deleteTokensOfUser,
  findToken,
  lockToken,
  markTokenUsed,
  supersedeTokens,
} from "./account-token.repository.ts";
import { ACCOUNT_TOKEN_FORMAT, hashAccountToken, issueAccountToken } from "./account-token.service.ts";

export type AccountDeps = AccountChangeDeps & { mailThrottle: AccountMailThrottle; logger: Logger };

export type DoneResult = { ok: true } | { ok: false; userErrors: UserError[] };
export type UserResult = { ok: true; user: UserModel } | { ok: false; userErrors: UserError[] };

const failed = (...userErrors: UserError[]) => ({ ok: false as const, userErrors });

const INVALID_TOKEN = () =>
  userError("INVALID_TOKEN", "This link is not valid: it was used already, or a newer one replaced it.", [
    "input",
    "token",
  ]);
const TOKEN_EXPIRED = () =>
  userError("TOKEN_EXPIRED", "This link has expired. Ask for a new one.", ["input", "token"]);
const NOT_FOUND = () => userError("NOT_FOUND", "No such account.", ["input", "userId"]);
const WRONG_PASSWORD = () =>
  userError("INVALID_CREDENTIALS", "The current password is incorrect.", ["input", "currentPassword"]);

/** An account that can be written to: it exists, was not deleted, and has an email. */
const mailable = (row: UserRow | undefined): row is UserRow & { email: string } =>
  row !== undefined && row.deleted_at === null && row.email !== null;

/**
 * `requestPasswordReset`: when the email belongs to an account, mails it a reset token (replacing
 * any unused one). The caller's answer never depends on the outcome, so it cannot tell whether an
 * account exists, has an email, or was throttled; a throttled request is only logged.
 */
export async function requestPasswordReset(
  deps: AccountDeps,
  input: { email: string },
  clientIp: string | undefined,
): Promise<DoneResult> {
  const invalid = emailErrors(input.email, ["input", "email"]);
  if (invalid.length > 0) return failed(...invalid);
  const email = normalizeEmail(input.email);
  if (!(await deps.mailThrottle.resetRequest(email, clientIp))) {
    deps.logger.warn("password reset request throttled", { clientIp });
    return { ok: true };
  }
  const issued = await deps.db.transaction().execute(async (trx) => {
    const found = await findUserByEmail(trx, email);
    // Locked so that two requests at once leave exactly one usable token.
    const row = found ? await lockUser(trx, found.id) : undefined;
    // Checked again under the lock: the account may have changed its email since the lookup.
    if (!mailable(row) || row.email !== email) return false;
    await issueAccountToken(trx, deps, row, "reset");
    return true;
  });
  if (issued) publishCommitted(deps);
  return { ok: true };
}

/** Why a token cannot be used, or null when it can. */
function tokenProblem(
  row: { used_at: Date | null; superseded_at: Date | null; expired: boolean } | undefined,
) {
  if (!row || row.used_at !== null || row.superseded_at !== null) return INVALID_TOKEN();
  if (row.expired) return TOKEN_EXPIRED();
  return null;
}

/**
 * `resetPassword`: sets the password of the account a reset or invitation token was mailed to,
 * uses the token up, signs out every session, and marks the email verified (the link reached
 * it). The token row is locked, so of concurrent uses of one token exactly one succeeds.
 */
export async function resetPassword(
  deps: AccountDeps,
  input: { token: string; newPassword: string },
): Promise<DoneResult> {
  const weak = passwordErrors(input.newPassword, ["input", "newPassword"]);
  if (weak.length > 0) return failed(...weak);
  if (!ACCOUNT_TOKEN_FORMAT.test(input.token)) return failed(INVALID_TOKEN());
  const tokenHash = hashAccountToken(input.token);
  // A look before hashing the password: unknown tokens cost no argon2 time.
  const seen = tokenProblem(await findToken(deps.db, tokenHash, ["reset", "invite"]));
  if (seen) return failed(seen);
  const passwordHash = await hashPassword(input.newPassword);
  const result = await deps.db.transaction().execute(async (trx): Promise<DoneResult> => {
    const token = await lockToken(trx, tokenHash, ["reset", "invite"]);
    const problem = tokenProblem(token);
    if (problem || !token) return failed(problem ?? INVALID_TOKEN());
    const row = await lockUser(trx, token.user_id);
    // Mailed to an address the account no longer has: that mailbox proves nothing now.
    if (!mailable(row) || row.email !== token.email) return failed(INVALID_TOKEN());
    await markTokenUsed(trx, token.id);
    await revokeFamiliesOfUser(trx, row.id, "password-reset");
    const user = toUserModel(
      await updateUser(trx, row.id, { password_hash: passwordHash, email_verified: true }),
    );
    await appendUserChanged(trx, user, row.email_verified ? [] : ["emailVerified"]);
    await appendToOutbox(trx, "PasswordChanged", user.id, {
      userId: user.id,
      email: row.email,
      name: user.name,
      via: "reset",
    });
    return { ok: true };
  });
  if (result.ok) publishCommitted(deps);
  return result;
}

/** `verifyEmail`: marks the address a verification token was mailed to as verified, if it is still the account's. */
export async function verifyEmail(deps: AccountDeps, input: { token: string }): Promise<DoneResult> {
  if (!ACCOUNT_TOKEN_FORMAT.test(input.token)) return failed(INVALID_TOKEN());
  const result = await deps.db
    .transaction()
    .execute(async (trx): Promise<DoneResult & { changed?: boolean }> => {
      const token = await lockToken(trx, hashAccountToken(input.token), ["verify"]);
      const problem = tokenProblem(token);
      if (problem || !token) return failed(problem ?? INVALID_TOKEN());
      const row = await lockUser(trx, token.user_id);
      if (!mailable(row) || row.email !== token.email) return failed(INVALID_TOKEN());
      await markTokenUsed(trx, token.id);
      if (row.email_verified) return { ok: true, changed: false };
      const user = toUserModel(await updateUser(trx, row.id, { email_verified: true }));
      await appendUserChanged(trx, user, ["emailVerified"]);
      return { ok: true, changed: true };
    });
  if (result.ok && result.changed) publishCommitted(deps);
  return result.ok ? { ok: true } : result;
}

/** `resendVerificationEmail`: a new verification token for the signed-in account's email, replacing the old one. */
export async function resendVerificationEmail(deps: AccountDeps, userId: string): Promise<DoneResult> {
  const row = await findUserById(deps.db, userId);
  if (!mailable(row)) return failed(userError("NO_EMAIL", "The account has no email address to verify."));
  if (row.email_verified)
    return failed(userError("ALREADY_VERIFIED", "The email address is already verified."));
  const retryAfter = await deps.mailThrottle.verificationResend(userId);
  if (retryAfter > 0) {
    return failed(
      userError(
        "RATE_LIMITED",
        `Too many verification emails. Try again in ${retryAfter} second${retryAfter === 1 ? "" : "s"}.`,
      ),
    );
  }
  const result = await deps.db.transaction().execute(async (trx): Promise<DoneResult> => {
    const locked = await lockUser(trx, userId);
    if (!mailable(locked))
      return failed(userError("NO_EMAIL", "The account has no email address to verify."));
    if (locked.email_verified) {
      return failed(userError("ALREADY_VERIFIED", "The email address is already verified."));
    }
    await issueAccountToken(trx, deps, locked, "verify");
    return { ok: true };
  });
  if (result.ok) publishCommitted(deps);
  return result;
}

/**
 * Gives the locked account a new, unverified email in the caller's transaction: every token
 * mailed to the old address stops working, and UserChanged says what changed. Undefined when
 * the email is unchanged.
 */
async function replaceEmail(
  trx: Transaction<Database>,
  row: UserRow,
  email: string,
): Promise<(UserModel & { email: string }) | undefined> {
  if (row.email === email) return undefined;
  await supersedeTokens(trx, row.id);
  const user = toUserModel(await updateUser(trx, row.id, { email, email_verified: false }));
  const changed: UserChange[] = row.email_verified ? ["email", "emailVerified"] : ["email"];
  await appendUserChanged(trx, user, changed);
  return { ...user, email };
}

/** Runs a change that may claim an email, mapping a lost race for it to EMAIL_TAKEN. */
async function claimingEmail<T>(change: () => Promise<T>, field: string[]): Promise<T | UserError> {
  try {
    return await change();
  } catch (error) {
    if (isEmailTaken(error)) return EMAIL_TAKEN(field);
    throw error;
  }
}

const isUserError = (value: unknown): value is UserError =>
  typeof value === "object" && value !== null && "code" in value && "message" in value;

/** `changeEmail`: the signed-in account's new address, unverified until its owner opens the mailed link. */
export async function changeEmail(
  deps: AccountDeps,
  userId: string,
  input: { newEmail: string; currentPassword: string },
): Promise<UserResult> {
  const invalid = emailErrors(input.newEmail, ["input", "newEmail"]);
  if (invalid.length > 0) return failed(...invalid);
  const email = normalizeEmail(input.newEmail);
  const current = await findUserById(deps.db, userId);
  if (!current || current.deleted_at !== null) return failed(WRONG_PASSWORD());
  if (!(await passwordMatches(current.password_hash, input.currentPassword))) return failed(WRONG_PASSWORD());
  const field = ["input", "newEmail"];
  const result = await claimingEmail(
    () =>
      deps.db.transaction().execute(async (trx): Promise<UserResult & { changed?: boolean }> => {
        const row = await lockUser(trx, userId);
        if (!row || row.deleted_at !== null) return failed(WRONG_PASSWORD());
        const taken = await findUserByEmail(trx, email);
        if (taken && taken.id !== userId) return failed(EMAIL_TAKEN(field));
        const user = await replaceEmail(trx, row, email);
        if (!user) return { ok: true, user: toUserModel(row), changed: false };
        await issueAccountToken(trx, deps, user, "verify");
        return { ok: true, user, changed: true };
      }),
    field,
  );
  if (isUserError(result)) return failed(result);
  if (result.ok && result.changed) publishCommitted(deps);
  return result.ok ? { ok: true, user: result.user } : result;
}

/**
 * `createCustomer` (staff): an account without a password whose owner is mailed an invitation
 * to set one (the reset flow with a longer-lived token).
 */
export async function createCustomer(
  deps: AccountDeps,
  input: { email: string; name: string },
): Promise<UserResult> {
  const errors = [
    ...emailErrors(input.email, ["input", "email"]),
    ...nameErrors(input.name, ["input", "name"]),
  ];
  if (errors.length > 0) return failed(...errors);
  const user = await insertAccount(
    deps.db,
    { email: normalizeEmail(input.email), passwordHash: null, name: input.name.trim(), role: "CUSTOMER" },
    (trx, user) => issueAccountToken(trx, deps, user, "invite"),
  );
  if (!user) return failed(EMAIL_TAKEN(["input", "email"]));
  publishCommitted(deps);
  return { ok: true, user };
}

/**
 * `setUserEmail` (staff): gives an account (an imported customer without one, say) an email,
 * unverified. Its owner then sets a password, and proves the address, with the reset flow.
 */
export async function setUserEmail(
  deps: AccountDeps,
  input: { userId: string; email: string },
): Promise<UserResult> {
  if (!isUuid(input.userId)) return failed(NOT_FOUND());
  const invalid = emailErrors(input.email, ["input", "email"]);
  if (invalid.length > 0) return failed(...invalid);
  const email = normalizeEmail(input.email);
  const field = ["input", "email"];
  const result = await claimingEmail(
    () =>
      deps.db.transaction().execute(async (trx): Promise<UserResult & { changed?: boolean }> => {
        const row = await lockUser(trx, input.userId);
        if (!row || row.deleted_at !== null) return failed(NOT_FOUND());
        const taken = await findUserByEmail(trx, email);
        if (taken && taken.id !== row.id) return failed(EMAIL_TAKEN(field));
        const user = await replaceEmail(trx, row, email);
        return user
          ? { ok: true, user, changed: true }
          : { ok: true, user: toUserModel(row), changed: false };
      }),
    field,
  );
  if (isUserError(result)) return failed(result);
  if (result.ok && result.changed) publishCommitted(deps);
  return result.ok ? { ok: true, user: result.user } : result;
}

/** What a deleted account keeps as its name: order history still shows someone. */
export const DELETED_ACCOUNT_NAME = "Deleted account";

/**
 * `deleteAccount`: after checking the password, erases the account's personal data (email,
 * name, password, addresses, mailed tokens) and signs out every session; the row and its id stay
 * for order history, and no one can sign in to it again. The last admin cannot leave.
 */
export async function deleteAccount(
  deps: AccountDeps,
  userId: string,
  input: { currentPassword: string },
): Promise<DoneResult> {
  const current = await findUserById(deps.db, userId);
  if (!current || current.deleted_at !== null) return failed(WRONG_PASSWORD());
  if (!(await passwordMatches(current.password_hash, input.currentPassword))) return failed(WRONG_PASSWORD());
  const result = await deps.db.transaction().execute(async (trx): Promise<DoneResult> => {
    // The role lock: an admin leaving must not race another admin's demotion or departure.
    const row = await lockUserById(trx, userId);
    if (!row || row.deleted_at !== null) return failed(WRONG_PASSWORD());
    if (row.role === "ADMIN" && (await countAdmins(trx)) <= 1) {
      return failed(userError("LAST_ADMIN", "The last admin cannot delete their account."));
    }
    await deleteAddressesOfUser(trx, userId);
    await deleteTokensOfUser(trx, userId);
    await revokeFamiliesOfUser(trx, userId, "account-deleted");
    await updateUser(trx, userId, {
      email: null,
      name: DELETED_ACCOUNT_NAME,
      password_hash: null,
      email_verified: false,
      country_code: null,
      role: "CUSTOMER",
      deleted_at: new Date(),
    });
    await appendToOutbox(trx, "UserDeleted", userId, { userId });
    return { ok: true };
  });
  if (result.ok) publishCommitted(deps);
  return result;
}
