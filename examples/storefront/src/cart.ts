/** The cart: add a product, say where it ships and how, and read what checkout will charge. */
import type { StorefrontClient } from "./client.ts";
import type { AddressInput, PricedCartQuery, SetShippingAddressMutation } from "./gql/graphql.ts";
import {
  AddToCartDocument,
  PricedCartDocument,
  SelectShippingDocument,
  SetShippingAddressDocument,
} from "./gql/graphql.ts";
import { accessOf, cartTokenOf, rememberCart, type Shopper } from "./session.ts";
import { refuseOn, type UserErrorLike } from "./user-errors.ts";

export const AddToCart = AddToCartDocument;

export const SetShippingAddress = SetShippingAddressDocument;

export const SelectShipping = SelectShippingDocument;

export const PricedCart = PricedCartDocument;

export type ShippingOption =
  SetShippingAddressMutation["setCartShippingAddress"]["cart"]["shippingOptions"][number];
export type Cart = NonNullable<PricedCartQuery["cart"]>;

/**
 * Adds units of a product. INSUFFICIENT_STOCK is a warning, not a refusal: the line holds the
 * units and checkout may then be rejected out of stock, so it is returned for the shopper to see.
 */
export async function addToCart(
  client: StorefrontClient,
  shopper: Shopper,
  productId: string,
  quantity: number,
): Promise<{ totalQuantity: number; warnings: UserErrorLike[] }> {
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > 99) {
    throw new Error(`A cart line holds 1 to 99 units, got ${quantity}`);
  }
  const { addToCart } = await client.request(
    AddToCart,
    { input: { productId, quantity, cartToken: cartTokenOf(shopper) } },
    accessOf(shopper),
  );
  const warnings = refuseOn("Adding to the cart", addToCart.userErrors, ["INSUFFICIENT_STOCK"]);
  rememberCart(shopper, addToCart.cart.token);
  return { totalQuantity: addToCart.cart.totalQuantity, warnings };
}

/** Sets where the cart ships; the methods the store offers there, each priced for this cart. */
export async function setShippingAddress(
  client: StorefrontClient,
  shopper: Shopper,
  address: AddressInput,
): Promise<ShippingOption[]> {
  const { setCartShippingAddress } = await client.request(
    SetShippingAddress,
    { input: { address, cartToken: cartTokenOf(shopper) } },
    accessOf(shopper),
  );
  refuseOn("Setting the shipping address", setCartShippingAddress.userErrors);
  rememberCart(shopper, setCartShippingAddress.cart.token);
  return setCartShippingAddress.cart.shippingOptions;
}

export async function selectShipping(client: StorefrontClient, shopper: Shopper, methodId: string) {
  const { selectShippingMethod } = await client.request(
    SelectShipping,
    { input: { methodId, cartToken: cartTokenOf(shopper) } },
    accessOf(shopper),
  );
  refuseOn("Choosing the shipping method", selectShippingMethod.userErrors);
  const chosen = selectShippingMethod.cart.shippingMethod;
  if (chosen?.id !== methodId) throw new Error(`The cart did not keep shipping method ${methodId}`);
  return chosen;
}

/** The cart as checkout would charge it now. */
export async function pricedCart(client: StorefrontClient, shopper: Shopper): Promise<Cart> {
  const { cart } = await client.request(PricedCart, { cartToken: cartTokenOf(shopper) }, accessOf(shopper));
  if (!cart) throw new Error("The store has no cart for this shopper");
  return cart;
}
