import type { Address } from "@nexus/core";

/** What Cart resolvers receive: the cart as stored; prices are looked up when asked for. */
export interface CartModel {
  /** The cart's key in the store: the customer's id, or `guest:` and the hash of a guest cart's token. */
  cartId: string;
  /** Null for a guest cart. */
  customerId: string | null;
  /**
   * A guest cart's token, set only in an answer to its holder (who sent it, or whose request
   * just created the cart); null otherwise and for a customer's cart.
   */
  token: string | null;
  /** Oldest first. */
  lines: CartLineModel[];
  updatedAt: Date | null;
  expiresAt: Date | null;
  /** What the customer chose for checkout; they outlive the lines, like an empty cart's address. */
  settings: CartSettings;
}

/** A cart's choices besides its lines. */
export interface CartSettings {
  /** Upper case, as applied; checked again whenever the cart is priced. */
  discountCode: string | null;
  shippingAddress: Address | null;
  shippingMethodId: string | null;
}

export interface CartLineModel {
  /** The catalog's product id, lower case. */
  productId: string;
  quantity: number;
  addedAt: Date;
}

/** What CartLine resolvers receive: the line and its cart, whose prices the line's share comes from. */
export interface CartLineInCart extends CartLineModel {
  cart: CartModel;
}
