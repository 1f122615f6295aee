import type { ShippingBandJson, ShippingRateType } from "../db/database.ts";
import type { ShippingMethodRow, ShippingZoneRow } from "./shipping.repository.ts";

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

export const toShippingZoneModel = (row: ShippingZoneRow): ShippingZoneModel => ({
  id: row.id,
  name: row.name,
  countries: [...row.countries].sort(),
  createdAt: row.created_at,
});

export const toShippingMethodModel = (row: ShippingMethodRow): ShippingMethodModel => ({
  id: row.id,
  zoneId: row.zone_id,
  name: row.name,
  rateType: row.rate_type,
  amount: row.rate_type === "FLAT" ? row.amount : null,
  bands: row.rate_type === "SUBTOTAL_BANDS" ? row.bands : [],
  freeAbove: row.free_above,
  active: row.active,
  createdAt: row.created_at,
});
