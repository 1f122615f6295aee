/** Who is shopping: a signed-in customer (an access token) or a guest (a cart token, later). */
import type { StorefrontClient } from "./client.ts";
import { SignInDocument } from "./gql/graphql.ts";
import { refuseOn } from "./user-errors.ts";

export const SignIn = SignInDocument;

/**
 * A customer's session, or a guest's. A guest's cart is named by the token the first cart
 * mutation hands out (`Cart.token`), kept here and sent with every later cart call.
 */
export type Shopper =
  | { kind: "customer"; name: string; accessToken: string }
  | { kind: "guest"; email: string; cartToken: string | null };

export async function signIn(
  client: StorefrontClient,
  credentials: { email: string; password: string },
): Promise<Shopper> {
  // Only the two fields: a caller's object may carry more, which the gateway would refuse.
  const { email, password } = credentials;
  const { login } = await client.request(SignIn, { input: { email, password } });
  refuseOn(`Signing in as ${credentials.email}`, login.userErrors);
  if (!login.accessToken || !login.user) throw new Error("The gateway signed in without a token or a user");
  return { kind: "customer", name: login.user.name, accessToken: login.accessToken };
}

export function continueAsGuest(email: string): Shopper {
  // The store checks the address too (INVALID_EMAIL); this catches a slip before any call.
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
    throw new Error(`A guest checkout needs an email for the confirmation, got "${email}"`);
  }
  return { kind: "guest", email, cartToken: null };
}

/** The request options and cart token a call needs for this shopper. */
export const accessOf = (shopper: Shopper) => ({
  accessToken: shopper.kind === "customer" ? shopper.accessToken : null,
});

export const cartTokenOf = (shopper: Shopper): string | null =>
  shopper.kind === "guest" ? shopper.cartToken : null;

/** Keeps the token a guest's first cart mutation handed out. */
export function rememberCart(shopper: Shopper, token: string | null | undefined): void {
  if (shopper.kind === "guest" && token) shopper.cartToken = token;
}
