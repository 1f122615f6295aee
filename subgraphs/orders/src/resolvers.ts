import { DateTimeScalar, mergeResolvers } from "@nexus/core";
import type { Resolvers } from "./__generated__/resolvers-types.ts";
import { cartResolvers, userCartResolvers } from "./cart/cart.resolvers.ts";
import { checkoutResolvers } from "./checkout/checkout.resolvers.ts";
import { discountResolvers } from "./discount/discount.resolvers.ts";
import { importResolvers } from "./import/import.resolvers.ts";
import { orderResolvers, userOrderResolvers } from "./order/order.resolvers.ts";
import { refundResolvers } from "./refund/refund.resolvers.ts";
import { shipmentResolvers } from "./shipment/shipment.resolvers.ts";
import { shippingResolvers } from "./shipping/shipping.resolvers.ts";
import { taxResolvers } from "./tax/tax.resolvers.ts";
import { userWishlistResolvers, wishlistResolvers } from "./wishlist/wishlist.resolvers.ts";

export const resolvers = mergeResolvers<Resolvers>([
  { DateTime: DateTimeScalar },
  orderResolvers,
  cartResolvers,
  checkoutResolvers,
  importResolvers,
  // users owns User; orders adds `orders` and `cart` to the stub it is handed.
  { User: { __resolveReference: (ref) => ({ id: ref.id }) } },
  { User: userOrderResolvers },
  { User: userCartResolvers },
  wishlistResolvers,
  { User: userWishlistResolvers },
  refundResolvers,
  shipmentResolvers,
  discountResolvers,
  shippingResolvers,
  taxResolvers,
]);
