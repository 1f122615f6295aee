import type { DiscountKind, DiscountScope, ShippingBandJson, ShippingRateType } from "../db/database.ts";

/**
 * The rules a cart or an order is priced by, as the pricing engine reads them. Amounts are
 * minor units of the store currency; rates are parts per million (10% = 100000).
 */

/** A discount as it stands now (discount/discount.repository.ts reads it). */
export interface DiscountRule {
  id: string;
  /** Upper case; null for an automatic discount. */
  code: string | null;
  title: string;
  kind: DiscountKind;
  /** PERCENTAGE only. */
  percentPpm: number | null;
  /** FIXED_AMOUNT only. */
  amount: number | null;
  minimumSubtotal: number | null;
  startsAt: Date | null;
  endsAt: Date | null;
  usageLimit: number | null;
  /** Orders holding a use now. */
  usageCount: number;
  perCustomerLimit: number | null;
  scope: DiscountScope;
  categoryIds: readonly string[];
  /** Lower case. */
  productIds: readonly string[];
  active: boolean;
}

/** An active shipping method of the zone a country is in (shipping/shipping.repository.ts). */
export interface ShippingMethodRule {
  id: string;
  name: string;
  zoneName: string;
  rateType: ShippingRateType;
  /** FLAT only. */
  amount: number | null;
  /** SUBTOTAL_BANDS only: ascending by minSubtotal, the first at 0. */
  bands: readonly ShippingBandJson[];
  /** Free from this subtotal after discounts; null for never. */
  freeAbove: number | null;
}

/** A country's tax rates (tax/tax.repository.ts): the standard one has no category. */
export interface TaxRateRule {
  categoryId: string | null;
  name: string;
  ratePpm: number;
}
