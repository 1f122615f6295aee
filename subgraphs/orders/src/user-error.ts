import type { UserError as AnyUserError } from "@nexus/core";
import type { UserErrorCode } from "./__generated__/resolvers-types.ts";

export type { UserErrorCode };

/** A userError this subgraph returns: its code is a value of the SDL's `UserErrorCode`. */
export type UserError = AnyUserError<UserErrorCode>;
