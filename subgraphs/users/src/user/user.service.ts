import { ROLE_SCOPES, type TokenSigner, type UserError, userError } from "@nexus/core";
import { hash, verify } from "@node-rs/argon2";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { toUserModel, type UserModel } from "./user.model.ts";
import { findUserByEmail, insertUser } from "./user.repository.ts";

/** OWASP's argon2id minimum: 19 MiB memory, 2 iterations, 1 lane. The library's default algorithm is argon2id. */
const ARGON2_OPTIONS = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string): Promise<string> => hash(password, ARGON2_OPTIONS);

/** Verified against when the email is unknown, so both failures take the same time. */
const unknownUserHash = hashPassword("not-a-real-password-just-for-timing");

export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export type AuthResult =
  | { ok: true; user: UserModel; accessToken: string; expiresAt: Date }
  | { ok: false; userErrors: UserError[] };

export interface RegisterInput {
  email: string;
  password: string;
  name: string;
}

function validateRegistration(input: RegisterInput): UserError[] {
  const errors: UserError[] = [];
  const email = normalizeEmail(input.email);
  if (email.length > 254 || !EMAIL.test(email)) {
    errors.push(userError("INVALID_EMAIL", "Enter a valid email address.", ["input", "email"]));
  }
  if (input.password.length < 8 || input.password.length > 128) {
    errors.push(
      userError("WEAK_PASSWORD", "Passwords must be 8 to 128 characters long.", ["input", "password"]),
    );
  }
  const name = input.name.trim();
  if (name.length < 1 || name.length > 100) {
    errors.push(userError("INVALID_NAME", "Names must be 1 to 100 characters long.", ["input", "name"]));
  }
  return errors;
}

export async function registerUser(
  db: Kysely<Database>,
  signer: TokenSigner,
  input: RegisterInput,
  role: UserModel["role"] = "CUSTOMER",
): Promise<AuthResult> {
  const userErrors = validateRegistration(input);
  if (userErrors.length > 0) return { ok: false, userErrors };
  const row = await insertUser(db, {
    email: normalizeEmail(input.email),
    passwordHash: await hashPassword(input.password),
    name: input.name.trim(),
    role,
  });
  if (!row) {
    return {
      ok: false,
      userErrors: [
        userError("EMAIL_TAKEN", "An account with this email already exists.", ["input", "email"]),
      ],
    };
  }
  return signIn(signer, toUserModel(row));
}

export async function loginUser(
  db: Kysely<Database>,
  signer: TokenSigner,
  input: { email: string; password: string },
): Promise<AuthResult> {
  const row =
    input.password.length <= 128 ? await findUserByEmail(db, normalizeEmail(input.email)) : undefined;
  const matches = await verify(row?.password_hash ?? (await unknownUserHash), input.password);
  if (!row || !matches) {
    return {
      ok: false,
      userErrors: [userError("INVALID_CREDENTIALS", "The email or password is incorrect.")],
    };
  }
  return signIn(signer, toUserModel(row));
}

async function signIn(signer: TokenSigner, user: UserModel): Promise<AuthResult> {
  const { token, expiresAt } = await signer.sign({
    sub: user.id,
    role: user.role,
    scopes: ROLE_SCOPES[user.role],
  });
  return { ok: true, user, accessToken: token, expiresAt };
}
