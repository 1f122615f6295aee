import type { OutboxDatabase, ProcessedEventsDatabase } from "@nexus/events";
import type { ColumnType, Generated } from "kysely";

export const ORDER_STATUSES = [
  "PENDING",
  "CONFIRMED",
  "REJECTED",
  "CANCELLED",
  "SHIPPED",
  "DELIVERED",
  "PARTIALLY_SHIPPED",
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const ORDER_CHANNELS = ["storefront", "partner", "import", "staff"] as const;
export type OrderChannel = (typeof ORDER_CHANNELS)[number];

export interface OrdersTable {
  id: Generated<string>;
  /** Null for a guest sale: an imported invoice without a customer. Live orders always have one. */
  customer_id: string | null;
  status: ColumnType<OrderStatus, OrderStatus | undefined, OrderStatus>;
  currency_code: string;
  /**
   * Minor units: what the customer pays. With prices excluding tax it is subtotal − discount +
   * shipping − shipping discount + tax + shipping tax; with prices including tax the taxes are
   * already inside the other amounts and not added again.
   */
  total_amount: number;
  /** The lines' unit_price * quantity, before discounts; null (read as the total) for orders without a breakdown. */
  subtotal_amount: ColumnType<number | null, number | undefined, never>;
  /** What discounts took off the lines (the sum of `order_lines.discount_amount`). */
  discount_amount: ColumnType<number, number | undefined, never>;
  /** The shipping method's rate, before a free-shipping discount. */
  shipping_amount: ColumnType<number, number | undefined, never>;
  /** What a free-shipping discount took off the shipping rate. */
  shipping_discount_amount: ColumnType<number, number | undefined, never>;
  /** Tax on the shipping charged (included in it when prices include tax). */
  shipping_tax_amount: ColumnType<number, number | undefined, never>;
  /** Tax on the lines (the sum of `order_lines.tax_amount`). */
  tax_amount: ColumnType<number, number | undefined, never>;
  /** Whether the amounts above were tax-inclusive (PRICES_INCLUDE_TAX when the order was placed). */
  prices_include_tax: ColumnType<boolean, boolean | undefined, never>;
  /** The shipping method chosen at checkout, as it was then; null when none applied. */
  shipping_method: ColumnType<ShippingMethodJson | null, string | undefined, never>;
  placed_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
  /** The validated address snapshotted at checkout (an `Address` from @nexus/core); null on older orders. */
  shipping_address: ColumnType<ShippingAddressJson | null, string | undefined, never>;
  /** The payment provider's token for the customer's payment method, captured once stock is reserved. */
  payment_token: ColumnType<string | null, string | undefined, never>;
  tracking_number: ColumnType<string | null, string | undefined, string | null>;
  /** The source system's id of an imported order (its invoice number); null for orders placed here. */
  external_ref: ColumnType<string | null, string | undefined, never>;
  /** The email a guest checkout gave (GUEST_CHECKOUT); null for a customer's order. */
  guest_email: ColumnType<string | null, string | undefined, never>;
  /** Which client placed the order: a customer's own (or a guest's) storefront, a partner, an import, staff. */
  channel: ColumnType<OrderChannel, OrderChannel | undefined, never>;
  /** The partner client's name (its tokens' `client_id`) when `channel` is `partner`, else null. */
  partner_client: ColumnType<string | null, string | null | undefined, never>;
}

export interface ShippingAddressJson {
  name: string;
  line1: string;
  line2: string | null;
  city: string;
  region: string | null;
  postalCode: string;
  countryCode: string;
}

/** A shipping method as an order snapshots it. */
export interface ShippingMethodJson {
  id: string;
  name: string;
  zoneName: string;
}

/** Append-only: one row per status an order has had. */
export interface OrderStatusChangesTable {
  id: Generated<string>;
  order_id: string;
  status: OrderStatus;
  reason: string | null;
  at: ColumnType<Date, Date | undefined, never>;
}

/**
 * One row per (customer, checkout key): inserted in the transaction that creates the order, so
 * concurrent checkouts with one key serialize on the primary key and only one order commits.
 */
export interface IdempotencyKeysTable {
  customer_id: string;
  key: string;
  /** sha256 of the address and payment token the key was first used with. */
  input_fingerprint: string;
  /** sha256 of the cart lines (product, quantity) the key was first used with. */
  cart_fingerprint: string;
  order_id: string;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export const PAYMENT_STATUSES = ["CAPTURED", "DECLINED", "REFUNDED"] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** What the payment provider said about an order's charge; at most one per order. */
export interface PaymentsTable {
  order_id: string;
  provider: string;
  status: PaymentStatus;
  amount: number;
  currency_code: string;
  reference: string | null;
  decline_reason: string | null;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

/**
 * A capture orders decided on (stock is reserved) and has not recorded the answer of yet; the
 * row goes when the payment is recorded in `payments`.
 */
export interface PaymentIntentsTable {
  order_id: string;
  requested_at: ColumnType<Date, Date | undefined, never>;
}

export interface OrderLinesTable {
  id: Generated<string>;
  order_id: string;
  /** 0-based place of the line in the order as it was placed. */
  position: number;
  /** The catalog's product id; a soft reference, the catalog's database is not ours to join. */
  product_id: string;
  product_name: string;
  /** Minor units, in the order's currency. */
  unit_price: number;
  quantity: number;
  /** What discounts took off unit_price * quantity. */
  discount_amount: ColumnType<number, number | undefined, never>;
  /** Tax on the line after discounts: added to it, or inside it when prices include tax. */
  tax_amount: ColumnType<number, number | undefined, never>;
  /** The rate the tax was computed at, in parts per million (20% = 200000). */
  tax_rate_ppm: ColumnType<number, number | undefined, never>;
}

export const DISCOUNT_KINDS = ["PERCENTAGE", "FIXED_AMOUNT", "FREE_SHIPPING"] as const;
export type DiscountKind = (typeof DISCOUNT_KINDS)[number];
export const DISCOUNT_SCOPES = ["ORDER", "CATEGORIES", "PRODUCTS"] as const;
export type DiscountScope = (typeof DISCOUNT_SCOPES)[number];

/** A promotion: with a code customers type, or automatic (code null). */
export interface DiscountsTable {
  id: string;
  /** Upper case, 1 to 64 of A-Z 0-9 _ -; null for an automatic discount. */
  code: string | null;
  title: string;
  kind: DiscountKind;
  /** PERCENTAGE only: parts per million of the eligible amount (10% = 100000). */
  percent_ppm: number | null;
  /** FIXED_AMOUNT only: minor units off the eligible amount. */
  amount: number | null;
  /** The cart's subtotal (before discounts) must reach this. */
  minimum_subtotal: number | null;
  starts_at: Date | null;
  ends_at: Date | null;
  /** Orders that may use it in all; null for no limit. */
  usage_limit: number | null;
  /** Orders one customer (or one guest email) may use it on; null for no limit. */
  per_customer_limit: number | null;
  /** Orders holding a use now (rejected and cancelled ones gave theirs back). */
  used_count: ColumnType<number, number | undefined, number>;
  scope: DiscountScope;
  /** CATEGORIES scope: the catalog category ids whose products it applies to. */
  category_ids: ColumnType<string[], string[] | undefined, string[]>;
  /** PRODUCTS scope: the catalog product ids (lower case) it applies to. */
  product_ids: ColumnType<string[], string[] | undefined, string[]>;
  active: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

/** An order's use of a discount; `released_at` set when the order was rejected or cancelled. */
export interface DiscountRedemptionsTable {
  order_id: string;
  discount_id: string;
  customer_id: string | null;
  /** A guest order's email, lower case; null for a customer's order. */
  email: string | null;
  redeemed_at: ColumnType<Date, Date | undefined, never>;
  released_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** What one discount took off an order, snapshotted at checkout. */
export interface OrderDiscountsTable {
  order_id: string;
  position: number;
  discount_id: string;
  code: string | null;
  title: string;
  kind: DiscountKind;
  /** Taken off the lines (the sum of `lines`). */
  amount: number;
  /** Taken off the shipping rate (free shipping). */
  shipping_amount: number;
  /** Per line: `[{ productId, amount }]`. */
  lines: ColumnType<{ productId: string; amount: number }[], string, never>;
}

export interface ShippingZonesTable {
  id: string;
  name: string;
  created_at: ColumnType<Date, Date | undefined, never>;
}

/** Which zone a country ships in: a country is in one zone at most. */
export interface ShippingZoneCountriesTable {
  country_code: string;
  zone_id: string;
}

export const SHIPPING_RATE_TYPES = ["FLAT", "SUBTOTAL_BANDS"] as const;
export type ShippingRateType = (typeof SHIPPING_RATE_TYPES)[number];

/** One band of a SUBTOTAL_BANDS rate: from this subtotal (after discounts) up, this amount. */
export interface ShippingBandJson {
  minSubtotal: number;
  amount: number;
}

export interface ShippingMethodsTable {
  id: string;
  zone_id: string;
  name: string;
  rate_type: ShippingRateType;
  /** FLAT only: the rate in minor units. */
  amount: number | null;
  /** SUBTOTAL_BANDS only: ascending by minSubtotal, the first one at 0. */
  bands: ColumnType<ShippingBandJson[], string | undefined, string>;
  /** Shipping is free when the subtotal after discounts reaches this; null for never. */
  free_above: number | null;
  active: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: ColumnType<Date, Date | undefined, never>;
}

/** A tax rate: the country's standard one (category_id null), or one for a catalog category. */
export interface TaxRatesTable {
  id: string;
  country_code: string;
  category_id: string | null;
  name: string;
  /** Parts per million (20% = 200000). */
  rate_ppm: number;
  created_at: ColumnType<Date, Date | undefined, never>;
}

/**
 * Money given back for an order: imported returns (a store's `C` invoices, `historical`, with
 * `order_id` the order returned against when one could be told, `customer_id` null for a guest)
 * and the refunds staff make with refundOrder (units of lines, or an amount without lines).
 */
export interface RefundsTable {
  id: string;
  order_id: string | null;
  customer_id: string | null;
  /** The source system's id of the return; unique, so an import run twice creates it once. */
  external_ref: string | null;
  currency_code: string;
  /** Minor units: the sum of the lines' unit_price * quantity. */
  amount: number;
  reason: string;
  refunded_at: Date;
  historical: boolean;
  /** The key a staff refund was requested with; null for imported ones. Unique per order. */
  idempotency_key: string | null;
  /** The payment provider's reference for the refund; null for imported ones. */
  provider_reference: string | null;
  /** The returned units went back on hand. */
  restock: ColumnType<boolean, boolean | undefined, never>;
}

/** Units of an order that left the warehouse together, with the carrier's tracking number. */
export interface ShipmentsTable {
  id: string;
  order_id: string;
  carrier: string | null;
  tracking_number: string | null;
  shipped_at: ColumnType<Date, Date | undefined, never>;
}

/** One product of a shipment; quantities are positive. */
export interface ShipmentLinesTable {
  shipment_id: string;
  position: number;
  product_id: string;
  quantity: number;
}

/** One product of a refund; quantities are positive. */
export interface RefundLinesTable {
  refund_id: string;
  position: number;
  product_id: string;
  quantity: number;
  unit_price: number;
}

/**
 * A product a customer means to buy some day. Owned here, next to the cart, because it is the
 * customer's intent to buy and outlives the Redis cart; `last_notified_at` spaces out the
 * back-in-stock announcements a flickering stock level would otherwise repeat.
 */
export interface WishlistItemsTable {
  customer_id: string;
  /** The catalog's product id, lower case; a soft reference like `order_lines.product_id`. */
  product_id: string;
  added_at: ColumnType<Date, Date | undefined, never>;
  /** When WishlistItemBackInStock was last announced for this item; null before the first. */
  last_notified_at: ColumnType<Date | null, never, Date>;
}

export interface Database extends OutboxDatabase, ProcessedEventsDatabase {
  orders: OrdersTable;
  order_lines: OrderLinesTable;
  order_status_changes: OrderStatusChangesTable;
  idempotency_keys: IdempotencyKeysTable;
  payments: PaymentsTable;
  payment_intents: PaymentIntentsTable;
  refunds: RefundsTable;
  refund_lines: RefundLinesTable;
  shipments: ShipmentsTable;
  shipment_lines: ShipmentLinesTable;
  wishlist_items: WishlistItemsTable;
  discounts: DiscountsTable;
  discount_redemptions: DiscountRedemptionsTable;
  order_discounts: OrderDiscountsTable;
  shipping_zones: ShippingZonesTable;
  shipping_zone_countries: ShippingZoneCountriesTable;
  shipping_methods: ShippingMethodsTable;
  tax_rates: TaxRatesTable;
}
