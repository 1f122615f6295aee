/** Checkout: the cart becomes an order, once, however often the request is retried. */
import { type StorefrontClient, StorefrontRequestError } from "./client.ts";
import type { CheckoutMutation } from "./gql/graphql.ts";
import { CheckoutDocument } from "./gql/graphql.ts";
import { accessOf, cartTokenOf, type Shopper } from "./session.ts";
import { refuseOn } from "./user-errors.ts";

export const Checkout = CheckoutDocument;

export type PlacedOrder = NonNullable<CheckoutMutation["checkout"]["order"]>;

/**
 * A key for one purchase. Make it when the shopper presses "Place order" and keep it until the
 * store answers: a retry after a timeout sends the same key and gets the same order back, never
 * a second one.
 */
export const newIdempotencyKey = (): string => crypto.randomUUID();

/**
 * Checks the cart out with the address and method set on it. `paymentToken` is the payment
 * provider's token; with the store's test provider anything but `tok_test_decline` and
 * `tok_test_insufficient_funds` is approved, and leaving it out means an approved test card.
 *
 * The gateway never retries a mutation, so this does, with the same key, when the answer was
 * lost (the network failed, or the gateway answered 502, 503 or 504): the order may have been
 * placed all the same, and the key makes the retry return it instead of placing another.
 */
export async function checkout(
  client: StorefrontClient,
  shopper: Shopper,
  {
    idempotencyKey,
    paymentToken,
    attempts = 3,
  }: { idempotencyKey: string; paymentToken?: string; attempts?: number },
): Promise<PlacedOrder> {
  if (!idempotencyKey) throw new Error("Checkout needs an idempotency key (newIdempotencyKey())");
  const cartToken = cartTokenOf(shopper);
  if (shopper.kind === "guest" && !cartToken)
    throw new Error("A guest checks out a cart: add something first");
  const variables = {
    input: {
      idempotencyKey,
      ...(cartToken ? { cartToken } : {}),
      ...(shopper.kind === "guest" ? { email: shopper.email } : {}),
      ...(paymentToken ? { paymentToken } : {}),
    },
  };
  for (let attempt = 1; ; attempt++) {
    let payload: CheckoutMutation["checkout"];
    try {
      ({ checkout: payload } = await client.request(Checkout, variables, accessOf(shopper)));
    } catch (error) {
      if (attempt >= attempts || !answerLost(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
      continue;
    }
    refuseOn("Checkout", payload.userErrors);
    if (!payload.order) throw new Error("Checkout answered without an order or a reason");
    return payload.order;
  }
}

/** Whether a failed request may have been carried out: the network lost it, or a proxy did. */
function answerLost(error: unknown): boolean {
  if (error instanceof StorefrontRequestError) return [502, 503, 504].includes(error.status);
  // fetch rejects with a TypeError when the connection fails or drops.
  return error instanceof TypeError;
}
