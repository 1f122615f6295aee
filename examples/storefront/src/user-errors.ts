/** Payload `userErrors`: expected refusals the shopper can act on, as opposed to failed requests. */
import type { UserErrorCode } from "./gql/graphql.ts";

/** `code` is the schema's documented enum: branch on it, show `message`. */
export interface UserErrorLike {
  code: UserErrorCode;
  message: string;
}

/** A mutation the store refused, e.g. INVALID_CREDENTIALS or EMPTY_CART. */
export class StorefrontRefusal extends Error {
  readonly codes: UserErrorCode[];

  constructor(step: string, errors: readonly UserErrorLike[]) {
    super(`${step} was refused: ${errors.map((error) => `${error.code} ${error.message}`).join("; ")}`);
    this.name = "StorefrontRefusal";
    this.codes = errors.map((error) => error.code);
  }
}

/**
 * Throws when a payload holds refusals. Warnings that leave the change made (INSUFFICIENT_STOCK
 * on a cart) are listed in `warnings` and returned for the caller to show instead.
 */
export function refuseOn(
  step: string,
  errors: readonly UserErrorLike[],
  warnings: readonly UserErrorCode[] = [],
): UserErrorLike[] {
  const refusals = errors.filter((error) => !warnings.includes(error.code));
  if (refusals.length > 0) throw new StorefrontRefusal(step, refusals);
  return errors.filter((error) => warnings.includes(error.code));
}
