import { type Kysely, type Selectable, sql, type Transaction } from "kysely";
import type { Database, ShippingMethodsTable, ShippingZonesTable } from "../db/database.ts";
import type { ShippingMethodRule } from "../pricing/pricing.model.ts";

export type ShippingMethodRow = Selectable<ShippingMethodsTable>;
/** A zone with its countries, sorted. */
export type ShippingZoneRow = Selectable<ShippingZonesTable> & { countries: string[] };

type Db = Kysely<Database> | Transaction<Database>;

/** A zone's countries sorted, as one text[] (empty when it has none). */
const zoneCountries = sql<string[]>`coalesce(
  (SELECT array_agg(c.country_code ORDER BY c.country_code) FROM shipping_zone_countries c
    WHERE c.zone_id = shipping_zones.id),
  '{}'::text[])`;

/** Every zone with its countries, oldest first. */
export async function findShippingZones(db: Db): Promise<ShippingZoneRow[]> {
  return db
    .selectFrom("shipping_zones")
    .selectAll()
    .select(zoneCountries.as("countries"))
    .orderBy("created_at")
    .orderBy("id")
    .execute();
}

export async function findShippingZone(db: Db, id: string): Promise<ShippingZoneRow | undefined> {
  return db
    .selectFrom("shipping_zones")
    .selectAll()
    .select(zoneCountries.as("countries"))
    .where("id", "=", id)
    .executeTakeFirst();
}

/** Zones by id with their countries, in no particular order: one query for every reference. */
export async function findShippingZonesByIds(db: Db, ids: readonly string[]): Promise<ShippingZoneRow[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom("shipping_zones")
    .selectAll()
    .select(zoneCountries.as("countries"))
    .where("id", "in", ids)
    .execute();
}

/** Methods by id, in no particular order: one query for every reference. */
export async function findShippingMethodsByIds(db: Db, ids: readonly string[]): Promise<ShippingMethodRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom("shipping_methods").selectAll().where("id", "in", ids).execute();
}

/**
 * Serializes every change to which zone a country is in, for the rest of the transaction, so
 * that the check for countries held by another zone and the write are one step, and two zones
 * trading countries cannot deadlock. Zones change seldom; nothing else waits on this lock.
 */
export async function lockZoneCountries(trx: Transaction<Database>): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext('orders.shipping_zone_countries'))`.execute(trx);
}

/** The zone row locked for update, so it cannot be deleted or changed meanwhile. */
export async function lockShippingZone(
  trx: Transaction<Database>,
  id: string,
): Promise<Selectable<ShippingZonesTable> | undefined> {
  return trx.selectFrom("shipping_zones").selectAll().where("id", "=", id).forUpdate().executeTakeFirst();
}

/** The zone row locked against deletion (not against other methods being added to it). */
export async function shareShippingZone(
  trx: Transaction<Database>,
  id: string,
): Promise<Selectable<ShippingZonesTable> | undefined> {
  return trx.selectFrom("shipping_zones").selectAll().where("id", "=", id).forShare().executeTakeFirst();
}

/** Which zone, other than `exceptZoneId`, each of `countries` is in now. */
export async function findCountriesInZones(
  db: Db,
  countries: readonly string[],
  exceptZoneId: string | null,
): Promise<{ countryCode: string; zoneId: string; zoneName: string }[]> {
  if (countries.length === 0) return [];
  let query = db
    .selectFrom("shipping_zone_countries")
    .innerJoin("shipping_zones", "shipping_zones.id", "shipping_zone_countries.zone_id")
    .select([
      "shipping_zone_countries.country_code as countryCode",
      "shipping_zones.id as zoneId",
      "shipping_zones.name as zoneName",
    ])
    .where("shipping_zone_countries.country_code", "in", countries);
  if (exceptZoneId !== null) query = query.where("shipping_zones.id", "<>", exceptZoneId);
  return query.orderBy("shipping_zone_countries.country_code").execute();
}

export async function insertShippingZone(
  trx: Transaction<Database>,
  zone: { id: string; name: string },
  countries: readonly string[],
): Promise<void> {
  await trx.insertInto("shipping_zones").values(zone).execute();
  await insertZoneCountries(trx, zone.id, countries);
}

export async function renameShippingZone(
  trx: Transaction<Database>,
  id: string,
  name: string,
): Promise<void> {
  await trx.updateTable("shipping_zones").set({ name }).where("id", "=", id).execute();
}

/** Replaces the zone's countries with `countries`. */
export async function replaceZoneCountries(
  trx: Transaction<Database>,
  zoneId: string,
  countries: readonly string[],
): Promise<void> {
  await trx.deleteFrom("shipping_zone_countries").where("zone_id", "=", zoneId).execute();
  await insertZoneCountries(trx, zoneId, countries);
}

async function insertZoneCountries(trx: Transaction<Database>, zoneId: string, countries: readonly string[]) {
  if (countries.length === 0) return;
  // Sorted, so concurrent writers take the rows' locks in one order.
  await trx
    .insertInto("shipping_zone_countries")
    .values([...countries].sort().map((country_code) => ({ country_code, zone_id: zoneId })))
    .execute();
}

/** Whether a write failed because another zone holds a country (the primary key on country_code). */
export function isCountryTaken(error: unknown): boolean {
  return (
    error instanceof Error &&
    "code" in error &&
    error.code === "23505" &&
    "constraint" in error &&
    error.constraint === "shipping_zone_countries_pkey"
  );
}

/** Deletes the zone, its countries and its methods; false when there was no such zone. */
export async function deleteShippingZone(db: Db, id: string): Promise<boolean> {
  const deleted = await db
    .deleteFrom("shipping_zones")
    .where("id", "=", id)
    .returning("id")
    .executeTakeFirst();
  return deleted !== undefined;
}

/** The methods of these zones, switched-off ones included, oldest first. */
export async function findShippingMethodsByZoneIds(
  db: Db,
  zoneIds: readonly string[],
): Promise<ShippingMethodRow[]> {
  if (zoneIds.length === 0) return [];
  return db
    .selectFrom("shipping_methods")
    .selectAll()
    .where("zone_id", "in", zoneIds)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
}

/** The method locked for update. */
export async function lockShippingMethod(
  trx: Transaction<Database>,
  id: string,
): Promise<ShippingMethodRow | undefined> {
  return trx.selectFrom("shipping_methods").selectAll().where("id", "=", id).forUpdate().executeTakeFirst();
}

export interface ShippingMethodValues {
  name: string;
  rate_type: ShippingMethodRow["rate_type"];
  amount: number | null;
  bands: ShippingMethodRow["bands"];
  free_above: number | null;
  active: boolean;
}

export async function insertShippingMethod(
  trx: Transaction<Database>,
  method: ShippingMethodValues & { id: string; zone_id: string },
): Promise<ShippingMethodRow> {
  return trx
    .insertInto("shipping_methods")
    .values({ ...method, bands: JSON.stringify(method.bands) })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function updateShippingMethod(
  trx: Transaction<Database>,
  id: string,
  method: ShippingMethodValues,
): Promise<ShippingMethodRow> {
  return trx
    .updateTable("shipping_methods")
    .set({ ...method, bands: JSON.stringify(method.bands) })
    .where("id", "=", id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** False when there was no such method. */
export async function deleteShippingMethod(db: Db, id: string): Promise<boolean> {
  const deleted = await db
    .deleteFrom("shipping_methods")
    .where("id", "=", id)
    .returning("id")
    .executeTakeFirst();
  return deleted !== undefined;
}

/**
 * For the pricing engine: the active methods of the zone `countryCode` ships in, oldest first,
 * each with the zone's name; empty when the country is in no zone or its zone offers none.
 */
export async function findShippingMethodsForCountry(
  db: Db,
  countryCode: string,
): Promise<ShippingMethodRule[]> {
  const rows = await db
    .selectFrom("shipping_zone_countries")
    .innerJoin("shipping_zones", "shipping_zones.id", "shipping_zone_countries.zone_id")
    .innerJoin("shipping_methods", "shipping_methods.zone_id", "shipping_zones.id")
    .select([
      "shipping_methods.id",
      "shipping_methods.name",
      "shipping_zones.name as zoneName",
      "shipping_methods.rate_type",
      "shipping_methods.amount",
      "shipping_methods.bands",
      "shipping_methods.free_above",
    ])
    .where("shipping_zone_countries.country_code", "=", countryCode.trim().toUpperCase())
    .where("shipping_methods.active", "=", true)
    .orderBy("shipping_methods.created_at")
    .orderBy("shipping_methods.id")
    .execute();
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    zoneName: row.zoneName,
    rateType: row.rate_type,
    amount: row.rate_type === "FLAT" ? row.amount : null,
    bands: row.rate_type === "SUBTOTAL_BANDS" ? row.bands : [],
    freeAbove: row.free_above,
  }));
}

/**
 * For checkout: whether the store ships anywhere, that is whether some zone offers at least one
 * active method. When it does not, an order needs no shipping method.
 */
export async function shipsAnywhere(db: Db): Promise<boolean> {
  const row = await db
    .selectFrom("shipping_methods")
    .select(sql<number>`1`.as("one"))
    .where("active", "=", true)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
