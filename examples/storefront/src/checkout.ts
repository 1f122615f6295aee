/** Checkout: the cart becomes an order, once, however often the request is retried. */
import type { StorefrontClient } from "./client.ts";
import type { CheckoutMutation } from "./gql/graphql.ts";
import { graphql } from "./gql/index.ts";
import { accessOf, cartTokenOf, type Shopper } from "./session.ts";
import { refuseOn } from "./user-errors.ts";

export const Checkout = graphql(`
  mutation Checkout($input: CheckoutInput!) {
    checkout(input: $input) {
      order {
        id
        status
        placedAt
        lines {
          productName
          quantity
          lineTotal {
            amount
            currencyCode
          }
        }
        subtotal {
          amount
          currencyCode
        }
        discountTotal {
          amount
          currencyCode
        }
        shippingTotal {
          amount
          currencyCode
        }
        taxTotal {
          amount
          currencyCode
        }
        total {
          amount
          currencyCode
        }
      }
      userErrors {
        code
        message
      }
    }
  }
`);

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
 */
export async function checkout(
  client: StorefrontClient,
  shopper: Shopper,
  { idempotencyKey, paymentToken }: { idempotencyKey: string; paymentToken?: string },
): Promise<PlacedOrder> {
  const cartToken = cartTokenOf(shopper);
  if (shopper.kind === "guest" && !cartToken)
    throw new Error("A guest checks out a cart: add something first");
  const { checkout } = await client.request(
    Checkout,
    {
      input: {
        idempotencyKey,
        ...(cartToken ? { cartToken } : {}),
        ...(shopper.kind === "guest" ? { email: shopper.email } : {}),
        ...(paymentToken ? { paymentToken } : {}),
      },
    },
    accessOf(shopper),
  );
  refuseOn("Checkout", checkout.userErrors);
  if (!checkout.order) throw new Error("Checkout answered without an order or a reason");
  return checkout.order;
}
