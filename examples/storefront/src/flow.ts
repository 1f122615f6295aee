/**
 * The storefront's journey from browsing to a confirmed order, step by step, each step's typed
 * result handed to `onStep` as it happens (the CLI prints them, the test asserts on them).
 */
import {
  addToCart,
  type Cart,
  pricedCart,
  type ShippingOption,
  selectShipping,
  setShippingAddress,
} from "./cart.ts";
import { type CategoryListing, listCategory, type ProductDetails, showProduct } from "./catalog.ts";
import { checkout, newIdempotencyKey, type PlacedOrder } from "./checkout.ts";
import type { StorefrontClient } from "./client.ts";
import { followOrder, type TrackedOrder } from "./follow-order.ts";
import type { AddressInput } from "./gql/graphql.ts";
import { continueAsGuest, type Shopper, signIn } from "./session.ts";
import type { UserErrorLike } from "./user-errors.ts";

export interface StorefrontOptions {
  /** The category to browse (its subcategories included), e.g. "electronics". */
  categorySlug: string;
  pageSize: number;
  /** How many pages of the category to read at most. */
  pages: number;
  /** Sign in with an account, or continue as a guest who gives an email for the confirmation. */
  identity: { kind: "customer"; email: string; password: string } | { kind: "guest"; email: string };
  quantity: number;
  address: AddressInput;
  /** The payment provider's token; the store's test provider approves a checkout without one. */
  paymentToken?: string;
  /** How long to follow the order before giving up (default 60 s). */
  followTimeoutMs?: number;
}

export type StorefrontStep =
  | { step: "category"; listing: CategoryListing }
  | { step: "product"; product: ProductDetails }
  | { step: "shopper"; shopper: Shopper }
  | { step: "cart"; productName: string; quantity: number; totalQuantity: number; warnings: UserErrorLike[] }
  | { step: "shipping"; options: ShippingOption[]; chosen: ShippingOption | null }
  | { step: "priced-cart"; cart: Cart }
  | { step: "checkout"; idempotencyKey: string; order: PlacedOrder }
  | { step: "order-status"; order: TrackedOrder }
  | { step: "not-followed"; reason: string };

export interface StorefrontRun {
  listing: CategoryListing;
  product: ProductDetails;
  shopper: Shopper;
  cart: Cart;
  order: PlacedOrder;
  /** The order once settled; null for a guest, who cannot read orders (the email follows it). */
  followed: TrackedOrder | null;
}

export async function runStorefront(
  client: StorefrontClient,
  options: StorefrontOptions,
  onStep: (step: StorefrontStep) => void = () => {},
): Promise<StorefrontRun> {
  // A guest's email is checked before the first request, not after browsing.
  const guest = options.identity.kind === "guest" ? continueAsGuest(options.identity.email) : null;
  const listing = await listCategory(client, options.categorySlug, {
    pageSize: options.pageSize,
    pages: options.pages,
  });
  onStep({ step: "category", listing });
  const candidate = listing.pages.flat().find((product) => product.inventory.inStock);
  if (!candidate) throw new Error(`Nothing in ${listing.category.name} is in stock on the pages read`);

  const product = await showProduct(client, candidate.id);
  onStep({ step: "product", product });

  const shopper = options.identity.kind === "customer" ? await signIn(client, options.identity) : guest;
  if (!shopper) throw new Error("A shopper is a signed-in customer or a guest");
  onStep({ step: "shopper", shopper });

  const quantity = Math.min(options.quantity, product.inventory.available);
  const added = await addToCart(client, shopper, product.id, quantity);
  onStep({ step: "cart", productName: product.name, quantity, ...added });

  // The cheapest method the store offers there; none when it does not ship there (checkout says why).
  const shippingOptions = await setShippingAddress(client, shopper, options.address);
  const cheapest = [...shippingOptions].sort((a, b) => a.price.amount - b.price.amount)[0] ?? null;
  if (cheapest) await selectShipping(client, shopper, cheapest.id);
  onStep({ step: "shipping", options: shippingOptions, chosen: cheapest });

  const cart = await pricedCart(client, shopper);
  onStep({ step: "priced-cart", cart });

  const idempotencyKey = newIdempotencyKey();
  const order = await checkout(client, shopper, {
    idempotencyKey,
    ...(options.paymentToken ? { paymentToken: options.paymentToken } : {}),
  });
  onStep({ step: "checkout", idempotencyKey, order });

  if (shopper.kind === "guest") {
    onStep({
      step: "not-followed",
      reason: `a guest cannot read orders; the store emails ${shopper.email} as the order changes`,
    });
    return { listing, product, shopper, cart, order, followed: null };
  }
  const followed = await followOrder(client, order.id, {
    accessToken: shopper.accessToken,
    onStatus: (seen) => onStep({ step: "order-status", order: seen }),
    ...(options.followTimeoutMs ? { timeoutMs: options.followTimeoutMs } : {}),
  });
  return { listing, product, shopper, cart, order, followed };
}
