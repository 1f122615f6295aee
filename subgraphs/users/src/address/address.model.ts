import type { AddressRow } from "./address.repository.ts";

/** What Address resolvers receive. */
export interface AddressModel {
  id: string;
  userId: string;
  name: string;
  line1: string;
  line2: string | null;
  city: string;
  region: string | null;
  postalCode: string;
  countryCode: string;
  isDefault: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export const toAddressModel = (row: AddressRow): AddressModel => ({
  id: row.id,
  userId: row.user_id,
  name: row.name,
  line1: row.line1,
  line2: row.line2,
  city: row.city,
  region: row.region,
  postalCode: row.postal_code,
  countryCode: row.country_code,
  isDefault: row.is_default,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});
