/** What Cart resolvers receive: the cart as stored; prices are looked up when asked for. */
export interface CartModel {
  customerId: string;
  /** Oldest first. */
  lines: CartLineModel[];
  updatedAt: Date | null;
  expiresAt: Date | null;
}

export interface CartLineModel {
  /** The catalog's product id, lower case. */
  productId: string;
  quantity: number;
  addedAt: Date;
}
