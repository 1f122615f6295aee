import { GraphQLError } from "graphql";

/** Error codes clients may branch on; they survive the gateway unchanged. */
export type ErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "BAD_USER_INPUT"
  | "INTERNAL_SERVER_ERROR";

export function graphQLError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}) {
  return new GraphQLError(message, { extensions: { code, ...extra } });
}

export const unauthenticated = (message = "You must be signed in to do this.") =>
  graphQLError("UNAUTHENTICATED", message);
export const forbidden = (message = "You are not allowed to do this.") => graphQLError("FORBIDDEN", message);
export const notFound = (what: string) => graphQLError("NOT_FOUND", `${what} was not found.`);
export const badUserInput = (message: string, field?: string) =>
  graphQLError("BAD_USER_INPUT", message, field ? { field } : {});

/**
 * An expected failure returned in a mutation payload's `userErrors`, never thrown. `Code` is the
 * subgraph's `UserErrorCode` enum (each subgraph aliases it in `src/user-error.ts`), so a code the
 * schema does not document fails to typecheck.
 */
export interface UserError<Code extends string = string> {
  field: string[] | null;
  message: string;
  code: Code;
}

export const userError = <const Code extends string>(
  code: Code,
  message: string,
  field: string[] | null = null,
): UserError<Code> => ({ code, message, field });

/** A userError's `field` under the mutation's `input` argument: `inputField("lines", 2, "quantity")`. */
export const inputField = (...path: (string | number)[]): string[] => ["input", ...path.map(String)];
