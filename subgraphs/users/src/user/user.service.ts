import {
  type Connection,
  pageSize,
  ROLE_SCOPES,
  type Role,
  type TokenSigner,
  toConnection,
  userError,
} from "@nexus/core";
import { appendToOutbox } from "@nexus/events";
import { hash, verify } from "@node-rs/argon2";
import type { Kysely, Transaction } from "kysely";
import { type AccountTokenDeps, issueAccountToken } from "../account/account-token.service.ts";
import type { LoginThrottle } from "../auth/login-throttle.ts";
import type { Database } from "../db/database.ts";
import { decodePosition, encodePosition } from "../db/position.ts";
import { revokeFamiliesOfUser } from "../session/session.repository.ts";
import { rotateRefreshToken, type Session, startSession } from "../session/session.service.ts";
import type { UserError } from "../user-error.ts";
import { appendUserChanged, type PublishDeps, publishCommitted, toUserSnapshot } from "./user.events.ts";
import { toUserModel, type UserModel } from "./user.model.ts";
import {
  countAdmins,
  findUserByEmail,
  findUserById,
  insertUser,
  listUsers,
  lockUser,
  lockUserById,
  updateUser,
} from "./user.repository.ts";

/** OWASP's argon2id minimum: 19 MiB memory, 2 iterations, 1 lane. The library's default algorithm is argon2id. */
export const ARGON2_OPTIONS = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;
/** Hashes made with other parameters are upgraded at the next successful sign-in. */
const CURRENT_HASH_PREFIX = `$argon2id$v=19$m=${ARGON2_OPTIONS.memoryCost},t=${ARGON2_OPTIONS.timeCost},p=${ARGON2_OPTIONS.parallelism}$`;

export const hashPassword = (password: string): Promise<string> => hash(password, ARGON2_OPTIONS);

/** Verified against when the email is unknown, so both failures take the same time. */
const unknownUserHash = hashPassword("not-a-real-password-just-for-timing");

export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** INVALID_EMAIL for anything that is not one email address, after normalizing. */
export function emailErrors(email: string, field: string[]): UserError[] {
  const normalized = normalizeEmail(email);
  return normalized.length > 254 || !EMAIL.test(normalized)
    ? [userError("INVALID_EMAIL", "Enter a valid email address.", field)]
    : [];
}

/** Whether the password is the account's; an account without one matches nothing, in the same time. */
export async function passwordMatches(passwordHash: string | null, password: string): Promise<boolean> {
  if (password.length > 128) return false;
  const matches = await verify(passwordHash ?? (await unknownUserHash), password);
  return passwordHash !== null && matches;
}

const INVALID_CREDENTIALS = () => userError("INVALID_CREDENTIALS", "The email or password is incorrect.");

/** What signing in needs besides the database. */
export interface SignInDeps {
  db: Kysely<Database>;
  signer: TokenSigner;
  throttle: LoginThrottle;
  refreshTokenTtlSeconds: number;
}

/** What changing an account needs: its events, and the tokens mailed for it. */
export type AccountChangeDeps = PublishDeps & AccountTokenDeps & { db: Kysely<Database> };

export type AuthResult =
  | { ok: true; user: UserModel; accessToken: string; expiresAt: Date; session: Session }
  | { ok: false; userErrors: UserError[] };

const failed = (...userErrors: UserError[]): AuthResult => ({ ok: false, userErrors });

export interface RegisterInput {
  email: string;
  password: string;
  name: string;
}

export function passwordErrors(password: string, field: string[]): UserError[] {
  return password.length < 8 || password.length > 128
    ? [userError("WEAK_PASSWORD", "Passwords must be 8 to 128 characters long.", field)]
    : [];
}

export function nameErrors(name: string, field: string[]): UserError[] {
  const trimmed = name.trim();
  return trimmed.length < 1 || trimmed.length > 100
    ? [userError("INVALID_NAME", "Names must be 1 to 100 characters long.", field)]
    : [];
}

function validateRegistration(input: RegisterInput): UserError[] {
  const errors: UserError[] = [];
  errors.push(...emailErrors(input.email, ["input", "email"]));
  errors.push(...passwordErrors(input.password, ["input", "password"]));
  errors.push(...nameErrors(input.name, ["input", "name"]));
  return errors;
}

export const EMAIL_TAKEN = (field: string[]) =>
  userError("EMAIL_TAKEN", "An account with this email already exists.", field);

/**
 * Inserts an account (no password when `passwordHash` is null) with its UserRegistered event,
 * then runs `andThen` in the same transaction; undefined when the email is taken.
 */
export async function insertAccount(
  db: Kysely<Database>,
  account: { email: string; passwordHash: string | null; name: string; role: Role; emailVerified?: boolean },
  andThen?: (trx: Transaction<Database>, user: UserModel & { email: string }) => Promise<void>,
): Promise<UserModel | undefined> {
  return db.transaction().execute(async (trx) => {
    const row = await insertUser(trx, account);
    if (!row) return undefined;
    const user = toUserModel(row);
    await appendToOutbox(trx, "UserRegistered", user.id, { user: toUserSnapshot(user) });
    await andThen?.(trx, { ...user, email: account.email });
    return user;
  });
}

/**
 * Creates an account with a password. Public registration always creates customers; other
 * roles come from admins. UserRegistered is in the outbox when it returns: its relay (this
 * process's, or the running service's poller for the create-admin command) publishes it.
 */
export async function createUser(
  db: Kysely<Database>,
  input: RegisterInput,
  role: Role = "CUSTOMER",
  andThen?: (trx: Transaction<Database>, user: UserModel & { email: string }) => Promise<void>,
): Promise<{ ok: true; user: UserModel } | { ok: false; userErrors: UserError[] }> {
  const userErrors = validateRegistration(input);
  if (userErrors.length > 0) return { ok: false, userErrors };
  const user = await insertAccount(
    db,
    {
      email: normalizeEmail(input.email),
      passwordHash: await hashPassword(input.password),
      name: input.name.trim(),
      role,
    },
    andThen,
  );
  if (!user) return { ok: false, userErrors: [EMAIL_TAKEN(["input", "email"])] };
  return { ok: true, user };
}

/** Registers a customer, has the address verified (a mailed token), and signs them in. */
export async function registerUser(
  deps: SignInDeps & AccountChangeDeps,
  input: RegisterInput,
): Promise<AuthResult> {
  const created = await createUser(deps.db, input, "CUSTOMER", (trx, user) =>
    issueAccountToken(trx, deps, user, "verify"),
  );
  if (!created.ok) return created;
  publishCommitted(deps);
  return signIn(deps, created.user);
}

export async function loginUser(
  deps: SignInDeps,
  input: { email: string; password: string },
  clientIp: string | undefined,
): Promise<AuthResult> {
  const email = normalizeEmail(input.email);
  const retryAfter = await deps.throttle.attempt(email, clientIp);
  if (retryAfter > 0) {
    return failed(
      userError(
        "RATE_LIMITED",
        `Too many sign-in attempts. Try again in ${retryAfter} second${retryAfter === 1 ? "" : "s"}.`,
      ),
    );
  }
  const row = input.password.length <= 128 ? await findUserByEmail(deps.db, email) : undefined;
  // An account without a password (an imported customer given an email) is checked against the
  // dummy hash like an unknown email, so its answer and timing are those of a wrong password.
  const passwordHash = row?.password_hash ?? null;
  const matches = await verify(passwordHash ?? (await unknownUserHash), input.password);
  if (!row || passwordHash === null || !matches) return failed(INVALID_CREDENTIALS());

  await deps.throttle.succeeded(email, clientIp);
  if (!passwordHash.startsWith(CURRENT_HASH_PREFIX)) {
    await updateUser(deps.db, row.id, { password_hash: await hashPassword(input.password) });
  }
  return signIn(deps, toUserModel(row));
}

/** Signs the user in with a fresh session; the token carries the role the account has now. */
export async function signIn(deps: SignInDeps, user: UserModel): Promise<AuthResult> {
  const session = await startSession(deps.db, user.id, deps.refreshTokenTtlSeconds);
  return issueAccessToken(deps.signer, user, session);
}

export async function issueAccessToken(
  signer: TokenSigner,
  user: UserModel,
  session: Session,
): Promise<AuthResult> {
  const { token, expiresAt } = await signer.sign({
    sub: user.id,
    role: user.role,
    scopes: ROLE_SCOPES[user.role],
    emailVerified: user.emailVerified,
  });
  return { ok: true, user, accessToken: token, expiresAt, session };
}

const invalidRefreshToken = (code: "INVALID_REFRESH_TOKEN" | "REFRESH_TOKEN_REUSED"): AuthResult => ({
  ok: false,
  userErrors: [
    {
      code,
      field: ["token"],
      message:
        code === "REFRESH_TOKEN_REUSED"
          ? "This refresh token was already used, so every token of its sign-in was revoked. Sign in again."
          : "The refresh token is unknown, expired or revoked. Sign in again.",
    },
  ],
});

/** Uses up a refresh token and signs its user in again, with the role the account has now. */
export async function refreshSignIn(
  deps: Pick<SignInDeps, "db" | "signer">,
  token: string,
): Promise<AuthResult> {
  const rotated = await rotateRefreshToken(deps.db, token);
  if (!rotated.ok) return invalidRefreshToken(rotated.code);
  const row = await findUserById(deps.db, rotated.userId);
  if (!row) return invalidRefreshToken("INVALID_REFRESH_TOKEN");
  return issueAccessToken(deps.signer, toUserModel(row), rotated.session);
}

/** `users`: a page of accounts, oldest first, optionally matching a search; one query and one count. */
export async function listUserPage(
  db: Kysely<Database>,
  args: { first?: number | null; after?: string | null; search?: string | null },
): Promise<Connection<UserModel>> {
  const limit = pageSize(args.first);
  const { rows, totalCount } = await listUsers(db, {
    search: args.search?.trim() || null,
    after: decodePosition(args.after),
    limit,
  });
  const page = toConnection(rows, limit, totalCount, (row) => encodePosition(row.position), !!args.after);
  return {
    ...page,
    edges: page.edges.map((edge) => ({ cursor: edge.cursor, node: toUserModel(edge.node) })),
  };
}

/** Changes the password after checking the current one, and signs out every session. */
export async function changePassword(
  deps: SignInDeps & PublishDeps,
  userId: string,
  input: { currentPassword: string; newPassword: string },
): Promise<AuthResult> {
  const weak = passwordErrors(input.newPassword, ["input", "newPassword"]);
  if (weak.length > 0) return failed(...weak);
  const row = await findUserById(deps.db, userId);
  if (!row) return failed(INVALID_CREDENTIALS());
  if (!(await passwordMatches(row.password_hash, input.currentPassword))) {
    return failed(
      userError("INVALID_CREDENTIALS", "The current password is incorrect.", ["input", "currentPassword"]),
    );
  }
  const passwordHash = await hashPassword(input.newPassword);
  const updated = await deps.db.transaction().execute(async (trx) => {
    await revokeFamiliesOfUser(trx, userId, "password-changed");
    const updated = await updateUser(trx, userId, { password_hash: passwordHash });
    if (updated.email !== null) {
      await appendToOutbox(trx, "PasswordChanged", userId, {
        userId,
        email: updated.email,
        name: updated.name,
        via: "change",
      });
    }
    return updated;
  });
  publishCommitted(deps);
  return signIn(deps, toUserModel(updated));
}

export async function updateProfile(
  deps: PublishDeps & { db: Kysely<Database> },
  userId: string,
  input: { name?: string | null },
): Promise<{ ok: true; user: UserModel } | { ok: false; userErrors: UserError[] }> {
  const gone = { ok: false as const, userErrors: [userError("NOT_FOUND", "The account no longer exists.")] };
  if (input.name === undefined || input.name === null) {
    const row = await findUserById(deps.db, userId);
    if (!row) return gone;
    return { ok: true, user: toUserModel(row) };
  }
  const userErrors = nameErrors(input.name, ["input", "name"]);
  if (userErrors.length > 0) return { ok: false, userErrors };
  const name = input.name.trim();
  const result = await deps.db.transaction().execute(async (trx) => {
    const row = await lockUser(trx, userId);
    if (!row || row.deleted_at !== null) return gone;
    if (row.name === name) return { ok: true as const, user: toUserModel(row), changed: false };
    const user = toUserModel(await updateUser(trx, userId, { name }));
    await appendUserChanged(trx, user, ["name"]);
    return { ok: true as const, user, changed: true };
  });
  if (!result.ok) return result;
  if (result.changed) publishCommitted(deps);
  return { ok: true, user: result.user };
}

/**
 * Changes a role. Admins are counted under a lock so two admins demoting each other at once
 * cannot leave the store without one.
 */
export async function setUserRole(
  deps: Partial<PublishDeps> & { db: Kysely<Database> },
  input: { userId: string; role: Role },
): Promise<{ ok: true; user: UserModel } | { ok: false; userErrors: UserError[] }> {
  const { db } = deps;
  const notFound = {
    ok: false as const,
    userErrors: [userError("NOT_FOUND", "No such account.", ["input", "userId"])],
  };
  const result = await db.transaction().execute(async (trx) => {
    const row = await lockUserById(trx, input.userId);
    if (!row || row.deleted_at !== null) return notFound;
    if (row.role === "ADMIN" && input.role !== "ADMIN" && (await countAdmins(trx)) <= 1) {
      return {
        ok: false as const,
        userErrors: [userError("LAST_ADMIN", "The last admin cannot be demoted.", ["input", "role"])],
      };
    }
    if (row.role === input.role) return { ok: true as const, user: toUserModel(row) };
    const user = toUserModel(await updateUser(trx, row.id, { role: input.role }));
    await appendUserChanged(trx, user, ["role"]);
    return { ok: true as const, user };
  });
  if (result.ok && deps.relay && deps.logger) publishCommitted({ relay: deps.relay, logger: deps.logger });
  return result;
}
