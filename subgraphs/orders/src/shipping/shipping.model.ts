import type { ShippingBandJson, ShippingRateType } from "../db/database.ts";

/** What ShippingMethod resolvers receive. Amounts are minor units of the store currency. */
export interface ShippingMethodModel {
  id: string;
  zoneId: string;
  name: string;
  rateType: ShippingRateType;
  amount: number | null;
  bands: ShippingBandJson[];
  freeAbove: number | null;
  active: boolean;
  createdAt: Date;
}

/** What ShippingZone resolvers receive; its methods are loaded when asked for. */
export interface ShippingZoneModel {
  id: string;
  name: string;
  /** Sorted. */
  countries: string[];
  createdAt: Date;
}
