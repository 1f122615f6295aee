/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
/** A product to put in the cart. */
export type AddToCartInput = {
  /** A guest cart's token (`Cart.token`); signed in, the guest cart is merged into the customer's first. */
  cartToken?: string | null | undefined;
  /** The catalog's product id. */
  productId: string | number;
  /** Units to add, 1 to 99; the line may hold 99 at most. */
  quantity: number;
};

/** A postal address as entered by a customer. Shared by the address book and checkout. */
export type AddressInput = {
  /** City or town. */
  city: string;
  /** ISO 3166-1 alpha-2 country code, e.g. US, DE or GB. */
  countryCode: string;
  /** Street and number. */
  line1: string;
  /** Apartment, suite or building; optional. */
  line2?: string | null | undefined;
  /** Recipient's full name. */
  name: string;
  /** Postal or ZIP code. */
  postalCode: string;
  /** State, province or county, where the country uses one. */
  region?: string | null | undefined;
};

/** What checkout needs besides the cart. */
export type CheckoutInput = {
  /** The guest cart to check out (signed in: a guest cart to merge into the customer's first). */
  cartToken?: string | null | undefined;
  /** Where a guest order's confirmation goes; required for a guest checkout, ignored when signed in. */
  email?: string | null | undefined;
  /**
   * A key the client makes once per purchase (a UUID is ideal; 1 to 200 visible ASCII
   * characters) and sends again on every retry of it.
   */
  idempotencyKey: string;
  /**
   * The payment provider's token for the customer's payment method. With the test provider
   * (PAYMENT_PROVIDER=test) every token is approved except `tok_test_decline` (declined,
   * `card_declined`) and `tok_test_insufficient_funds` (declined, `insufficient_funds`); when
   * omitted, the test provider uses `tok_test_visa`, which is approved.
   */
  paymentToken?: string | null | undefined;
  /**
   * Where to ship the order, in full. At most one of this and `shippingAddressId`; without either,
   * the cart's address (`setCartShippingAddress`).
   */
  shippingAddress?: AddressInput | null | undefined;
  /**
   * Where to ship the order: the id of an address in the customer's address book
   * (`me { addresses { id } }`). The order keeps a copy of the address as it is at checkout.
   * At most one of this and `shippingAddress`.
   */
  shippingAddressId?: string | number | null | undefined;
};

/** Credentials for signing in. */
export type LoginInput = {
  /** The account's email, in any case. */
  email: string;
  /** The account's password. */
  password: string;
};

/**
 * Where an order is in its life. PENDING -> CONFIRMED -> SHIPPED -> DELIVERED is the happy path;
 * PENDING may end REJECTED, and any state before delivery may end CANCELLED.
 */
export type OrderStatus =
  /** Cancelled by the customer or an admin; its stock was released and any payment refunded. */
  | 'CANCELLED'
  /** Stock is reserved for every line and payment was captured. */
  | 'CONFIRMED'
  /** Reached the customer. */
  | 'DELIVERED'
  /**
   * Some of its units left the warehouse in shipments and the rest are still to ship; the
   * shipped units' stock is committed.
   */
  | 'PARTIALLY_SHIPPED'
  /** Placed; waiting for inventory to reserve stock and for payment. */
  | 'PENDING'
  /**
   * The order failed: stock could not be reserved, payment was declined or the reservation
   * expired. Nothing is reserved and nothing is charged.
   */
  | 'REJECTED'
  /** Left the warehouse (every unit, in one shipment or several); its stock is committed. */
  | 'SHIPPED';

/** What happened to an order's payment. */
export type PaymentStatus =
  /** The amount was charged. */
  | 'CAPTURED'
  /** The payment provider declined the charge; nothing was charged. */
  | 'DECLINED'
  /** The amount was charged and then refunded in full. */
  | 'REFUNDED';

/** A shipping method for the cart. */
export type SelectShippingMethodInput = {
  /** A guest cart's token (`Cart.token`); signed in, the guest cart is merged into the customer's first. */
  cartToken?: string | null | undefined;
  /** The id of one of `cart.shippingOptions`. */
  methodId: string | number;
};

/** Where a cart ships. */
export type SetCartShippingAddressInput = {
  /** The address. */
  address: AddressInput;
  /** A guest cart's token (`Cart.token`); signed in, the guest cart is merged into the customer's first. */
  cartToken?: string | null | undefined;
};

/**
 * Why a mutation refused its input: the `code` of a `UserError`, for clients to branch on
 * (the message is for people and may change). Values are added as the API grows: treat one
 * you do not know like any other refusal and show its message.
 */
export type UserErrorCode =
  /** The account was deleted; it can no longer sign in or be changed. */
  | 'ACCOUNT_DELETED'
  /** The address book is full; remove an address to add another. */
  | 'ADDRESS_LIMIT'
  /** There is no such address in the customer's address book. */
  | 'ADDRESS_NOT_FOUND'
  /** The email address is verified already; nothing to send. */
  | 'ALREADY_VERIFIED'
  /** The refund is more than what is left of the payment. */
  | 'AMOUNT_EXCEEDS_PAID'
  /** The training date lies in the future. */
  | 'AS_OF_IN_FUTURE'
  /** An attribute value is not of the type its category defines (e.g. not a number). */
  | 'ATTRIBUTE_TYPE_MISMATCH'
  /** An attribute value is not one of the values its category allows. */
  | 'ATTRIBUTE_VALUE_NOT_ALLOWED'
  /** A guest cart's token is needed for this. */
  | 'CART_TOKEN_REQUIRED'
  /** A category cannot move under itself or one of its subcategories. */
  | 'CATEGORY_CYCLE'
  /** There is no such category. */
  | 'CATEGORY_NOT_FOUND'
  /** This kind of message is not sent on that channel. */
  | 'CHANNEL_NOT_AVAILABLE'
  /** The partner client is revoked; it can get no new keys. */
  | 'CLIENT_REVOKED'
  /** Two inputs that exclude each other were both given. */
  | 'CONFLICTING_INPUT'
  /** A country ships in another zone already; a country is in one zone at most. */
  | 'COUNTRY_IN_ANOTHER_ZONE'
  /** A product is priced in another currency than the store's. */
  | 'CURRENCY_MISMATCH'
  /** The customer has used this discount as often as it allows. */
  | 'DISCOUNT_CUSTOMER_LIMIT_REACHED'
  /** The discount's end date has passed. */
  | 'DISCOUNT_EXPIRED'
  /** The cart's subtotal is below the discount's minimum. */
  | 'DISCOUNT_MINIMUM_NOT_MET'
  /** Nothing in the cart is in the discount's scope. */
  | 'DISCOUNT_NOT_APPLICABLE'
  /** There is no such discount (or code), or it is switched off. */
  | 'DISCOUNT_NOT_FOUND'
  /** The discount's start date has not come yet. */
  | 'DISCOUNT_NOT_YET_ACTIVE'
  /** The discount has been used as often as it may be. */
  | 'DISCOUNT_USED_UP'
  /** An attribute of this name is defined already, here or in a parent category. */
  | 'DUPLICATE_ATTRIBUTE'
  /** Another discount has this code. */
  | 'DUPLICATE_DISCOUNT_CODE'
  /** The same externalId appears more than once in one import call. */
  | 'DUPLICATE_EXTERNAL_ID'
  /** A preference is listed twice. */
  | 'DUPLICATE_PREFERENCE'
  /** The same SKU appears more than once in one call, or another product has it. */
  | 'DUPLICATE_SKU'
  /** Another record has this slug. */
  | 'DUPLICATE_SLUG'
  /** The customer must verify their email address first. */
  | 'EMAIL_NOT_VERIFIED'
  /** Another account uses this email address. */
  | 'EMAIL_TAKEN'
  /** The cart is empty. */
  | 'EMPTY_CART'
  /** Only failed events can be replayed. */
  | 'EVENT_NOT_FAILED'
  /** There is no such event in the queue. */
  | 'EVENT_NOT_FOUND'
  /** The churn horizon is outside the allowed number of days. */
  | 'HORIZON_OUT_OF_RANGE'
  /** The idempotency key was used for another checkout with different input. */
  | 'IDEMPOTENCY_KEY_REUSED'
  /** The order's status cannot change to the one asked for. */
  | 'ILLEGAL_STATUS_TRANSITION'
  /** Fewer units are available than the line asks for. */
  | 'INSUFFICIENT_STOCK'
  /** An address field is missing, too long or malformed; the field path says which. */
  | 'INVALID_ADDRESS'
  /** Allowed values were given for an attribute type that takes none, or are invalid. */
  | 'INVALID_ALLOWED_VALUES'
  /** An amount is below its minimum or not a whole number of minor units. */
  | 'INVALID_AMOUNT'
  /** An attribute name is not a lower-case letter followed by letters, digits or _. */
  | 'INVALID_ATTRIBUTE_NAME'
  /** An attribute value is empty or too long. */
  | 'INVALID_ATTRIBUTE_VALUE'
  /** A review's body is too long. */
  | 'INVALID_BODY'
  /** A brand is empty or too long. */
  | 'INVALID_BRAND'
  /** A carrier name is empty, too long or not printable ASCII. */
  | 'INVALID_CARRIER'
  /** A cart token is empty or malformed. */
  | 'INVALID_CART_TOKEN'
  /** A category id is empty or too long. */
  | 'INVALID_CATEGORY_ID'
  /** compareAtPrice must be above price. */
  | 'INVALID_COMPARE_AT_PRICE'
  /** A country is not an ISO 3166-1 alpha-2 code (or too many countries were given). */
  | 'INVALID_COUNTRY'
  /** The email and password (or the current password) do not match. */
  | 'INVALID_CREDENTIALS'
  /** A currency is not an ISO 4217 code. */
  | 'INVALID_CURRENCY'
  /** A customer id is not a user id. */
  | 'INVALID_CUSTOMER_ID'
  /** A date is missing, malformed or out of range. */
  | 'INVALID_DATE'
  /** A date is out of range, or an end comes before its start. */
  | 'INVALID_DATES'
  /** A description is too long. */
  | 'INVALID_DESCRIPTION'
  /** A discount code is not 1 to 64 letters, digits, underscores or hyphens. */
  | 'INVALID_DISCOUNT_CODE'
  /** A discount's value does not fit its kind (percent or amount). */
  | 'INVALID_DISCOUNT_VALUE'
  /** The email address is not a valid address. */
  | 'INVALID_EMAIL'
  /** An externalId is empty, too long or holds control characters. */
  | 'INVALID_EXTERNAL_ID'
  /** An id is not in the form the field takes. */
  | 'INVALID_ID'
  /** An idempotency key is not 1 to 200 visible ASCII characters. */
  | 'INVALID_IDEMPOTENCY_KEY'
  /** An image URL is not an absolute https URL. */
  | 'INVALID_IMAGE_URL'
  /** The input's fields do not fit together; the message says how. */
  | 'INVALID_INPUT'
  /** A limit is below 1. */
  | 'INVALID_LIMIT'
  /** A name is empty, too long or not in the form the field allows; the message says which. */
  | 'INVALID_NAME'
  /** A payment token is empty or malformed. */
  | 'INVALID_PAYMENT_TOKEN'
  /** A price is not a whole number of minor units in range. */
  | 'INVALID_PRICE'
  /** A product id is not a catalog id (24 hexadecimal characters). */
  | 'INVALID_PRODUCT_ID'
  /** A product name is empty or too long. */
  | 'INVALID_PRODUCT_NAME'
  /** A quantity is out of its allowed range. */
  | 'INVALID_QUANTITY'
  /** A shipping or tax rate is incomplete or out of range for its kind. */
  | 'INVALID_RATE'
  /** A rating is not a whole number from 1 to 5. */
  | 'INVALID_RATING'
  /** A reason is too long. */
  | 'INVALID_REASON'
  /** The refresh token is unknown, expired or revoked: sign in again. */
  | 'INVALID_REFRESH_TOKEN'
  /** A refund names neither lines nor an amount, or both. */
  | 'INVALID_REFUND'
  /** A discount's scope and the categories or products given do not fit. */
  | 'INVALID_SCOPE'
  /** A shipment's lines are empty, too many or repeated. */
  | 'INVALID_SHIPMENT'
  /** No shipping address was given or set, or it is not a valid address. */
  | 'INVALID_SHIPPING_ADDRESS'
  /** A SKU is not 1 to 64 letters, digits and dashes. */
  | 'INVALID_SKU'
  /** A slug is not lower-case words of letters and digits joined by dashes. */
  | 'INVALID_SLUG'
  /** Too many tags, or a tag is empty or too long. */
  | 'INVALID_TAGS'
  /** A low-stock threshold is not a whole number in range. */
  | 'INVALID_THRESHOLD'
  /** A title is empty or too long. */
  | 'INVALID_TITLE'
  /** A one-time link's token is unknown, used already or replaced by a newer one. */
  | 'INVALID_TOKEN'
  /** A tracking number is empty, too long or not printable ASCII. */
  | 'INVALID_TRACKING_NUMBER'
  /** The last admin cannot delete their account or lose the role. */
  | 'LAST_ADMIN'
  /** A usage limit cannot be set below the uses the discount already has. */
  | 'LIMIT_BELOW_USAGE'
  /** The cart has no line for this product. */
  | 'LINE_NOT_FOUND'
  /** Another record uses this name. */
  | 'NAME_TAKEN'
  /** A price is below zero. */
  | 'NEGATIVE_PRICE'
  /** Stock on hand cannot go below what is reserved for orders. */
  | 'NEGATIVE_STOCK'
  /** Too little history to train on; the message says what is missing. */
  | 'NOT_ENOUGH_DATA'
  /** The record the input names does not exist (or is not yours). */
  | 'NOT_FOUND'
  /** The order cannot be refunded in its status; the message says why. */
  | 'NOT_REFUNDABLE'
  /** The account has no email address. */
  | 'NO_EMAIL'
  /** An order to import has no lines. */
  | 'NO_LINES'
  /** Customers cannot vote on their own review. */
  | 'OWN_REVIEW'
  /** A price is above the largest amount the store accepts. */
  | 'PRICE_TOO_HIGH'
  /** There is no such product (for sale). */
  | 'PRODUCT_NOT_FOUND'
  /** A product in the cart is no longer for sale. */
  | 'PRODUCT_UNAVAILABLE'
  /** More units than are left to refund of the line. */
  | 'QUANTITY_EXCEEDS_ORDERED'
  /** More units than are shipped and not yet refunded. */
  | 'QUANTITY_EXCEEDS_SHIPPED'
  /** More units than are left to ship of the line. */
  | 'QUANTITY_EXCEEDS_UNSHIPPED'
  /** A line was capped at the most units a line may hold. */
  | 'QUANTITY_LIMITED'
  /** Asked too often; the message says when to try again. */
  | 'RATE_LIMITED'
  /** A stock change needs a reason. */
  | 'REASON_REQUIRED'
  /** A refresh token was used twice, so its whole session was revoked: sign in again. */
  | 'REFRESH_TOKEN_REUSED'
  /** There is no such review. */
  | 'REVIEW_NOT_FOUND'
  /** The cart needs a shipping address first. */
  | 'SHIPPING_ADDRESS_REQUIRED'
  /** There is no such shipping method. */
  | 'SHIPPING_METHOD_NOT_FOUND'
  /** Choose a shipping method (cart.shippingOptions) before checking out. */
  | 'SHIPPING_METHOD_REQUIRED'
  /** The shipping method does not ship to the cart's address. */
  | 'SHIPPING_METHOD_UNAVAILABLE'
  /** The store does not ship to the address's country. */
  | 'SHIPPING_NOT_AVAILABLE'
  /** There is no such shipping zone. */
  | 'SHIPPING_ZONE_NOT_FOUND'
  /** This kind of message is for staff only. */
  | 'STAFF_ONLY'
  /** There is no such tax rate. */
  | 'TAX_RATE_NOT_FOUND'
  /** A one-time link's token has expired; ask for a new one. */
  | 'TOKEN_EXPIRED'
  /** More attributes than a product or category may hold. */
  | 'TOO_MANY_ATTRIBUTES'
  /** An import call holds more customers than one call may. */
  | 'TOO_MANY_CUSTOMERS'
  /** More images than a product may hold. */
  | 'TOO_MANY_IMAGES'
  /** A partner client holds two working API keys already; revoke one first. */
  | 'TOO_MANY_KEYS'
  /** More lines than a cart or import may hold; the message names what was left out. */
  | 'TOO_MANY_LINES'
  /** An import call holds more orders than one call may. */
  | 'TOO_MANY_ORDERS'
  /** An import call holds more products than one call may. */
  | 'TOO_MANY_PRODUCTS'
  /** An imported order lists more returns than it may. */
  | 'TOO_MANY_RETURNS'
  /** The total is more than one order can hold. */
  | 'TOTAL_TOO_LARGE'
  /** A model is being trained already. */
  | 'TRAINING_IN_PROGRESS'
  /** This kind of message cannot be switched off. */
  | 'TRANSACTIONAL_REQUIRED'
  /** The product's category defines no attribute of this name. */
  | 'UNKNOWN_ATTRIBUTE'
  /** A category id names no category. */
  | 'UNKNOWN_CATEGORY'
  /** The parent category does not exist. */
  | 'UNKNOWN_PARENT'
  /** The order has no line for this product. */
  | 'UNKNOWN_PRODUCT'
  /** An amount is not in the store currency; the message names it. */
  | 'UNSUPPORTED_CURRENCY'
  /** The password breaks the password rules (length). */
  | 'WEAK_PASSWORD'
  /** The wishlist is full. */
  | 'WISHLIST_FULL';

export type AddToCartMutationVariables = Exact<{
  input: AddToCartInput;
}>;


export type AddToCartMutation = { addToCart: { cart: { token: string | null, totalQuantity: number }, userErrors: Array<{ code: UserErrorCode, message: string }> } };

export type CategoryPageQueryVariables = Exact<{
  slug: string;
  first: number;
  after?: string | null | undefined;
}>;


export type CategoryPageQuery = { category: { id: string, name: string, path: string } | null, products: { totalCount: number, edges: Array<{ node: { id: string, slug: string, name: string, brand: string, price: { amount: number, currencyCode: string }, compareAtPrice: { amount: number, currencyCode: string } | null, inventory: { inStock: boolean } } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type CheckoutMutationVariables = Exact<{
  input: CheckoutInput;
}>;


export type CheckoutMutation = { checkout: { order: { id: string, status: OrderStatus, placedAt: string, lines: Array<{ productName: string, quantity: number, lineTotal: { amount: number, currencyCode: string } }>, subtotal: { amount: number, currencyCode: string }, discountTotal: { amount: number, currencyCode: string }, shippingTotal: { amount: number, currencyCode: string }, taxTotal: { amount: number, currencyCode: string }, total: { amount: number, currencyCode: string } } | null, userErrors: Array<{ code: UserErrorCode, message: string }> } };

export type OrderUpdatesSubscriptionVariables = Exact<{
  id: string | number;
}>;


export type OrderUpdatesSubscription = { orderUpdated: { id: string, status: OrderStatus, updatedAt: string, statusHistory: Array<{ status: OrderStatus, at: string, reason: string | null }>, payment: { status: PaymentStatus, declineReason: string | null, amount: { amount: number, currencyCode: string } } | null, total: { amount: number, currencyCode: string } } | null };

export type PricedCartQueryVariables = Exact<{
  cartToken?: string | null | undefined;
}>;


export type PricedCartQuery = { cart: { totalQuantity: number, pricesIncludeTax: boolean, lines: Array<{ productId: string, quantity: number, available: boolean, exceedsAvailable: boolean | null, product: { name: string } | null, unitPrice: { amount: number, currencyCode: string } | null, lineTotal: { amount: number, currencyCode: string } | null, discount: { amount: number } | null, tax: { amount: number } | null }>, shippingAddress: { name: string, city: string, countryCode: string } | null, shippingMethod: { id: string, name: string } | null, subtotal: { amount: number, currencyCode: string }, discountTotal: { amount: number, currencyCode: string }, shippingTotal: { amount: number, currencyCode: string }, taxTotal: { amount: number, currencyCode: string }, total: { amount: number, currencyCode: string } } | null };

export type ProductPageQueryVariables = Exact<{
  id: string | number;
  reviews: number;
}>;


export type ProductPageQuery = { product: { id: string, name: string, brand: string, description: string, price: { amount: number, currencyCode: string }, compareAtPrice: { amount: number, currencyCode: string } | null, inventory: { available: number, inStock: boolean, lowStock: boolean }, rating: { average: number, count: number }, reviews: { totalCount: number, edges: Array<{ node: { id: string, rating: number, title: string, verifiedPurchase: boolean, author: { name: string } } }> } } | null };

export type SelectShippingMutationVariables = Exact<{
  input: SelectShippingMethodInput;
}>;


export type SelectShippingMutation = { selectShippingMethod: { cart: { token: string | null, shippingMethod: { id: string, name: string } | null }, userErrors: Array<{ code: UserErrorCode, message: string }> } };

export type SetShippingAddressMutationVariables = Exact<{
  input: SetCartShippingAddressInput;
}>;


export type SetShippingAddressMutation = { setCartShippingAddress: { cart: { token: string | null, shippingOptions: Array<{ id: string, name: string, zoneName: string, price: { amount: number, currencyCode: string } }> }, userErrors: Array<{ code: UserErrorCode, message: string }> } };

export type SignInMutationVariables = Exact<{
  input: LoginInput;
}>;


export type SignInMutation = { login: { accessToken: string | null, expiresAt: string | null, user: { id: string, name: string } | null, userErrors: Array<{ code: UserErrorCode, message: string }> } };


export const AddToCartDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"AddToCart"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"AddToCartInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"addToCart"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cart"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"token"}},{"kind":"Field","name":{"kind":"Name","value":"totalQuantity"}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]}}]} as unknown as DocumentNode<AddToCartMutation, AddToCartMutationVariables>;
export const CategoryPageDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"CategoryPage"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"slug"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"category"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"slug"},"value":{"kind":"Variable","name":{"kind":"Name","value":"slug"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"path"}}]}},{"kind":"Field","name":{"kind":"Name","value":"products"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"categorySlug"},"value":{"kind":"Variable","name":{"kind":"Name","value":"slug"}}}]}},{"kind":"Argument","name":{"kind":"Name","value":"sort"},"value":{"kind":"EnumValue","value":"NEWEST"}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"slug"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"brand"}},{"kind":"Field","name":{"kind":"Name","value":"price"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currencyCode"}}]}},{"kind":"Field","name":{"kind":"Name","value":"compareAtPrice"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currencyCode"}}]}},{"kind":"Field","name":{"kind":"Name","value":"inventory"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"inStock"}}]}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}}]}}]}}]} as unknown as DocumentNode<CategoryPageQuery, CategoryPageQueryVariables>;
export const CheckoutDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"Checkout"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"CheckoutInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"checkout"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"order"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"placedAt"}},{"kind":"Field","name":{"kind":"Name","value":"lines"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"productName"}},{"kind":"Field","name":{"kind":"Name","value":"quantity"}},{"kind":"Field","name":{"kind":"Name","value":"lineTotal"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currencyCode"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"subtotal"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currencyCode"}}]}},{"kind":"Field","name":{"kind":"Name","value":"discountTotal"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currencyCode"}}]}},{"kind":"Field","name":{"kind":"Name","value":"shippingTotal"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currencyCode"}}]}},{"kind":"Field","name":{"kind":"Name","value":"taxTotal"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currencyCode"}}]}},{"kind":"Field","name":{"kind":"Name","value":"total"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currencyCode"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]}}]} as unknown as DocumentNode<CheckoutMutation, CheckoutMutationVariables>;
export const OrderUpdatesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"OrderUpdates"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"orderUpdated"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"statusHistory"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"at"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}}]}},{"kind":"Field","name":{"kind":"Name","value":"payment"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"amount"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currencyCode"}}]}},{"kind":"Field","name":{"kind":"Name","value":"declineReason"}}]}},{"kind":"Field","name":{"kind":"Name","value":"total"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currencyCode"}}]}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}}]}}]}}]} as unknown as DocumentNode<OrderUpdatesSubscription, OrderUpdatesSubscriptionVariables>;
export const PricedCartDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"PricedCart"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"cartToken"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cart"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"cartToken"},"value":{"kind":"Variable","name":{"kind":"Name","value":"cartToken"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalQuantity"}},{"kind":"Field","name":{"kind":"Name","value":"lines"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"productId"}},{"kind":"Field","name":{"kind":"Name","value":"quantity"}},{"kind":"Field","name":{"kind":"Name","value":"available"}},{"kind":"Field","name":{"kind":"Name","value":"exceedsAvailable"}},{"kind":"Field","name":{"kind":"Name","value":"product"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}}]}},{"kind":"Field","name":{"kind":"Name","value":"unitPrice"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currencyCode"}}]}},{"kind":"Field","name":{"kind":"Name","value":"lineTotal"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currencyCode"}}]}},{"kind":"Field","name":{"kind":"Name","value":"discount"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}}]}},{"kind":"Field","name":{"kind":"Name","value":"tax"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"shippingAddress"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"city"}},{"kind":"Field","name":{"kind":"Name","value":"countryCode"}}]}},{"kind":"Field","name":{"kind":"Name","value":"shippingMethod"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}},{"kind":"Field","name":{"kind":"Name","value":"pricesIncludeTax"}},{"kind":"Field","name":{"kind":"Name","value":"subtotal"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currencyCode"}}]}},{"kind":"Field","name":{"kind":"Name","value":"discountTotal"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currencyCode"}}]}},{"kind":"Field","name":{"kind":"Name","value":"shippingTotal"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currencyCode"}}]}},{"kind":"Field","name":{"kind":"Name","value":"taxTotal"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currencyCode"}}]}},{"kind":"Field","name":{"kind":"Name","value":"total"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currencyCode"}}]}}]}}]}}]} as unknown as DocumentNode<PricedCartQuery, PricedCartQueryVariables>;
export const ProductPageDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ProductPage"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"reviews"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"product"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"brand"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"price"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currencyCode"}}]}},{"kind":"Field","name":{"kind":"Name","value":"compareAtPrice"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currencyCode"}}]}},{"kind":"Field","name":{"kind":"Name","value":"inventory"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"available"}},{"kind":"Field","name":{"kind":"Name","value":"inStock"}},{"kind":"Field","name":{"kind":"Name","value":"lowStock"}}]}},{"kind":"Field","name":{"kind":"Name","value":"rating"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"average"}},{"kind":"Field","name":{"kind":"Name","value":"count"}}]}},{"kind":"Field","name":{"kind":"Name","value":"reviews"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"reviews"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"rating"}},{"kind":"Field","name":{"kind":"Name","value":"title"}},{"kind":"Field","name":{"kind":"Name","value":"verifiedPurchase"}},{"kind":"Field","name":{"kind":"Name","value":"author"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]}}]}}]}}]}}]} as unknown as DocumentNode<ProductPageQuery, ProductPageQueryVariables>;
export const SelectShippingDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"SelectShipping"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"SelectShippingMethodInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"selectShippingMethod"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cart"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"token"}},{"kind":"Field","name":{"kind":"Name","value":"shippingMethod"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]}}]} as unknown as DocumentNode<SelectShippingMutation, SelectShippingMutationVariables>;
export const SetShippingAddressDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"SetShippingAddress"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"SetCartShippingAddressInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"setCartShippingAddress"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cart"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"token"}},{"kind":"Field","name":{"kind":"Name","value":"shippingOptions"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"zoneName"}},{"kind":"Field","name":{"kind":"Name","value":"price"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currencyCode"}}]}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]}}]} as unknown as DocumentNode<SetShippingAddressMutation, SetShippingAddressMutationVariables>;
export const SignInDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"SignIn"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"LoginInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"login"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"accessToken"}},{"kind":"Field","name":{"kind":"Name","value":"expiresAt"}},{"kind":"Field","name":{"kind":"Name","value":"user"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]}}]} as unknown as DocumentNode<SignInMutation, SignInMutationVariables>;