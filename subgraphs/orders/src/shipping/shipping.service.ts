import { randomUUID } from "node:crypto";
import { inputField, isCountryCode, isUuid, userError } from "@nexus/core";
import type { Kysely, Transaction } from "kysely";
import type { Database, ShippingBandJson, ShippingRateType } from "../db/database.ts";
import type { UserError } from "../user-error.ts";
import {
  type ShippingMethodModel,
  type ShippingZoneModel,
  toShippingMethodModel,
  toShippingZoneModel,
} from "./shipping.model.ts";
import {
  deleteShippingMethod as deleteMethodRow,
  deleteShippingZone as deleteZoneRow,
  findCountriesInZones,
  findShippingZone,
  findShippingZones,
  insertShippingMethod,
  insertShippingZone,
  isCountryTaken,
  lockShippingMethod,
  lockShippingZone,
  lockZoneCountries,
  renameShippingZone,
  replaceZoneCountries,
  type ShippingMethodRow,
  shareShippingZone,
  updateShippingMethod as updateMethodRow,
} from "./shipping.repository.ts";

export const MAX_NAME_LENGTH = 100;
export const MAX_ZONE_COUNTRIES = 250;
export const MAX_RATE_BANDS = 20;
/** The largest amount a column holds (PostgreSQL integer). */
export const MAX_AMOUNT = 2_147_483_647;
/** A zone write that loses a race for a country to a writer outside this service is tried again. */
const ZONE_WRITE_ATTEMPTS = 3;

export type ShippingZoneResult = { zone: ShippingZoneModel | null; userErrors: UserError[] };
export type ShippingMethodResult = { method: ShippingMethodModel | null; userErrors: UserError[] };
export type DeleteResult = { deleted: boolean; userErrors: UserError[] };

export interface CreateShippingZoneInput {
  name: string;
  countries: readonly string[];
}

export interface UpdateShippingZoneInput {
  id: string;
  /** Null or absent: unchanged. */
  name?: string | null;
  /** Null or absent: unchanged; otherwise the zone's countries from now on. */
  countries?: readonly string[] | null;
}

export interface ShippingRateBandInput {
  minSubtotal: number;
  amount: number;
}

export interface CreateShippingMethodInput {
  zoneId: string;
  name: string;
  rateType: ShippingRateType;
  amount?: number | null;
  bands?: readonly ShippingRateBandInput[] | null;
  freeAbove?: number | null;
}

export interface UpdateShippingMethodInput {
  id: string;
  name?: string | null;
  /** `rateType`, `amount` and `bands` change together: when one is given, the rate is theirs. */
  rateType?: ShippingRateType | null;
  amount?: number | null;
  bands?: readonly ShippingRateBandInput[] | null;
  /** Absent: unchanged; null: never free. */
  freeAbove?: number | null;
  active?: boolean | null;
}

const isAmount = (value: number) => Number.isSafeInteger(value) && value >= 0 && value <= MAX_AMOUNT;

/** The name trimmed, or null with an INVALID_NAME error. */
function validateName(name: string, errors: UserError[]): string | null {
  const trimmed = name.trim();
  const length = Array.from(trimmed).length;
  if (length === 0 || length > MAX_NAME_LENGTH) {
    errors.push(
      userError("INVALID_NAME", `name must be 1 to ${MAX_NAME_LENGTH} characters.`, inputField("name")),
    );
    return null;
  }
  return trimmed;
}

/**
 * The countries upper-cased and deduplicated, each with the index it first had in the input (for
 * error paths); INVALID_COUNTRY for each code that is not an ISO 3166-1 alpha-2 code in use, and
 * for a list that is empty or longer than MAX_ZONE_COUNTRIES.
 */
function validateCountries(countries: readonly string[], errors: UserError[]): Map<string, number> {
  const valid = new Map<string, number>();
  if (countries.length === 0 || countries.length > MAX_ZONE_COUNTRIES) {
    errors.push(
      userError(
        "INVALID_COUNTRY",
        `countries must hold 1 to ${MAX_ZONE_COUNTRIES} ISO 3166-1 alpha-2 codes.`,
        inputField("countries"),
      ),
    );
    if (countries.length > MAX_ZONE_COUNTRIES) return valid;
  }
  countries.forEach((raw, index) => {
    const code = raw.trim().toUpperCase();
    if (!/^[A-Z]{2}$/.test(code) || !isCountryCode(code)) {
      errors.push(
        userError(
          "INVALID_COUNTRY",
          `"${raw}" is not an ISO 3166-1 alpha-2 country code such as US or DE.`,
          inputField("countries", index),
        ),
      );
    } else if (!valid.has(code)) {
      valid.set(code, index);
    }
  });
  return valid;
}

/** COUNTRY_IN_ANOTHER_ZONE for each of `countries` another zone holds now. */
async function findTakenCountries(
  db: Kysely<Database> | Transaction<Database>,
  countries: Map<string, number>,
  zoneId: string | null,
): Promise<UserError[]> {
  const taken = await findCountriesInZones(db, [...countries.keys()], zoneId);
  return taken.map((row) =>
    userError(
      "COUNTRY_IN_ANOTHER_ZONE",
      `${row.countryCode} already ships in the zone "${row.zoneName}" (${row.zoneId}); a country ships in one zone at most.`,
      inputField("countries", countries.get(row.countryCode) ?? 0),
    ),
  );
}

/**
 * Runs a zone write in a transaction that holds the zone-country lock: `write` checks and returns
 * user errors (then nothing it wrote is kept) or writes. A unique violation on a country (a
 * writer that did not take the lock got there first) rolls back and runs it again, so the next
 * check names the zone that now holds the country.
 */
async function zoneTransaction(
  db: Kysely<Database>,
  write: (trx: Transaction<Database>) => Promise<ShippingZoneResult>,
): Promise<ShippingZoneResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(async (trx) => {
        await lockZoneCountries(trx);
        const result = await write(trx);
        if (result.userErrors.length > 0) throw new Refused(result);
        return result;
      });
    } catch (error) {
      if (error instanceof Refused) return error.result;
      if (!isCountryTaken(error) || attempt >= ZONE_WRITE_ATTEMPTS) throw error;
    }
  }
}

/** Rolls a transaction back when a write found user errors part-way. */
class Refused extends Error {
  readonly result: ShippingZoneResult;
  constructor(result: ShippingZoneResult) {
    super("refused");
    this.result = result;
  }
}

/** Every zone with its countries, oldest first. */
export async function listShippingZones(db: Kysely<Database>): Promise<ShippingZoneModel[]> {
  return (await findShippingZones(db)).map(toShippingZoneModel);
}

/** Creates a zone; its countries must not be in another zone. */
export async function createShippingZone(
  db: Kysely<Database>,
  input: CreateShippingZoneInput,
): Promise<ShippingZoneResult> {
  const errors: UserError[] = [];
  const name = validateName(input.name, errors);
  const countries = validateCountries(input.countries, errors);
  return zoneTransaction(db, async (trx) => {
    const userErrors = [...errors, ...(await findTakenCountries(trx, countries, null))];
    if (userErrors.length > 0 || name === null) return { zone: null, userErrors };
    const id = randomUUID();
    await insertShippingZone(trx, { id, name }, [...countries.keys()]);
    const zone = await findShippingZone(trx, id);
    if (!zone) throw new Error(`the shipping zone ${id} just inserted was not found`);
    return { zone: toShippingZoneModel(zone), userErrors: [] };
  });
}

/** Renames a zone and/or replaces its countries, in one transaction. */
export async function updateShippingZone(
  db: Kysely<Database>,
  input: UpdateShippingZoneInput,
): Promise<ShippingZoneResult> {
  const errors: UserError[] = [];
  const name = input.name == null ? null : validateName(input.name, errors);
  const countries = input.countries == null ? null : validateCountries(input.countries, errors);
  const zoneId = isUuid(input.id) ? input.id.toLowerCase() : null;
  return zoneTransaction(db, async (trx) => {
    const existing = zoneId === null ? undefined : await lockShippingZone(trx, zoneId);
    const userErrors = [...errors];
    if (!existing) userErrors.unshift(zoneNotFound(inputField("id")));
    if (countries !== null) userErrors.push(...(await findTakenCountries(trx, countries, zoneId)));
    if (userErrors.length > 0 || !existing) return { zone: null, userErrors };
    if (name !== null && name !== existing.name) await renameShippingZone(trx, existing.id, name);
    if (countries !== null) await replaceZoneCountries(trx, existing.id, [...countries.keys()]);
    const zone = await findShippingZone(trx, existing.id);
    if (!zone) throw new Error(`the shipping zone ${existing.id} locked was not found`);
    return { zone: toShippingZoneModel(zone), userErrors: [] };
  });
}

/** Deletes a zone with its countries and methods. */
export async function deleteShippingZone(db: Kysely<Database>, input: { id: string }): Promise<DeleteResult> {
  const deleted = isUuid(input.id) && (await deleteZoneRow(db, input.id.toLowerCase()));
  return deleted ? { deleted, userErrors: [] } : { deleted, userErrors: [zoneNotFound(inputField("id"))] };
}

const zoneNotFound = (field: string[]) =>
  userError("SHIPPING_ZONE_NOT_FOUND", "There is no such shipping zone.", field);
const methodNotFound = () =>
  userError("SHIPPING_METHOD_NOT_FOUND", "There is no such shipping method.", inputField("id"));

/**
 * The rate as a whole: FLAT has an amount and no bands; SUBTOTAL_BANDS has 1 to MAX_RATE_BANDS
 * bands, the first from 0, `minSubtotal` strictly ascending, and no amount. INVALID_AMOUNT for an
 * amount out of range, INVALID_RATE for a rate of the wrong shape.
 */
function validateRate(
  rateType: ShippingRateType | null,
  amount: number | null,
  bands: readonly ShippingRateBandInput[] | null,
  errors: UserError[],
): void {
  if (amount !== null && !isAmount(amount)) {
    errors.push(userError("INVALID_AMOUNT", `amount must be 0 to ${MAX_AMOUNT}.`, inputField("amount")));
  }
  bands?.forEach((band, i) => {
    if (!isAmount(band.amount)) {
      errors.push(
        userError(
          "INVALID_AMOUNT",
          `A band's amount must be 0 to ${MAX_AMOUNT}.`,
          inputField("bands", i, "amount"),
        ),
      );
    }
  });
  if (rateType === "FLAT") {
    if (amount === null)
      errors.push(userError("INVALID_RATE", "A FLAT rate needs an amount.", inputField("amount")));
    if (bands !== null && bands.length > 0) {
      errors.push(userError("INVALID_RATE", "A FLAT rate has no bands.", inputField("bands")));
    }
  } else if (rateType === "SUBTOTAL_BANDS") {
    if (amount !== null) {
      errors.push(
        userError(
          "INVALID_RATE",
          "A SUBTOTAL_BANDS rate has no amount: its bands hold them.",
          inputField("amount"),
        ),
      );
    }
    if (bands === null || bands.length === 0 || bands.length > MAX_RATE_BANDS) {
      errors.push(
        userError(
          "INVALID_RATE",
          `A SUBTOTAL_BANDS rate needs 1 to ${MAX_RATE_BANDS} bands.`,
          inputField("bands"),
        ),
      );
    }
    bands?.forEach((band, i) => {
      const previous = bands[i - 1];
      if (i === 0 && band.minSubtotal !== 0) {
        errors.push(
          userError(
            "INVALID_RATE",
            "The first band's minSubtotal must be 0.",
            inputField("bands", i, "minSubtotal"),
          ),
        );
      } else if (
        previous !== undefined &&
        (!isAmount(band.minSubtotal) || band.minSubtotal <= previous.minSubtotal)
      ) {
        errors.push(
          userError(
            "INVALID_RATE",
            `Each band's minSubtotal must be above the one before it, up to ${MAX_AMOUNT}.`,
            inputField("bands", i, "minSubtotal"),
          ),
        );
      }
    });
  }
}

function validateFreeAbove(freeAbove: number | null, errors: UserError[]): void {
  if (freeAbove !== null && !isAmount(freeAbove)) {
    errors.push(
      userError(
        "INVALID_AMOUNT",
        `freeAbove must be 0 to ${MAX_AMOUNT}, or null for never.`,
        inputField("freeAbove"),
      ),
    );
  }
}

const toBands = (bands: readonly ShippingRateBandInput[] | null): ShippingBandJson[] =>
  (bands ?? []).map((band) => ({ minSubtotal: band.minSubtotal, amount: band.amount }));

/** Adds a method, active, to a zone. */
export async function createShippingMethod(
  db: Kysely<Database>,
  input: CreateShippingMethodInput,
): Promise<ShippingMethodResult> {
  const errors: UserError[] = [];
  const name = validateName(input.name, errors);
  const amount = input.amount ?? null;
  const bands = input.bands ?? null;
  const freeAbove = input.freeAbove ?? null;
  validateRate(input.rateType, amount, bands, errors);
  validateFreeAbove(freeAbove, errors);
  return db.transaction().execute(async (trx): Promise<ShippingMethodResult> => {
    // Shared: the zone cannot be deleted before this commits, and other methods may be added.
    const zone = isUuid(input.zoneId) ? await shareShippingZone(trx, input.zoneId.toLowerCase()) : undefined;
    if (!zone) errors.unshift(zoneNotFound(inputField("zoneId")));
    if (errors.length > 0 || !zone || name === null) return { method: null, userErrors: errors };
    const row = await insertShippingMethod(trx, {
      id: randomUUID(),
      zone_id: zone.id,
      name,
      rate_type: input.rateType,
      amount: input.rateType === "FLAT" ? amount : null,
      bands: input.rateType === "SUBTOTAL_BANDS" ? toBands(bands) : [],
      free_above: freeAbove,
      active: true,
    });
    return { method: toShippingMethodModel(row), userErrors: [] };
  });
}

/**
 * Changes a method. A field left out stays as it is; `rateType`, `amount` and `bands` change
 * together: when any of them is given, the new rate is the given rate type (or the current one)
 * with exactly the amount and bands given, validated as a whole.
 */
export async function updateShippingMethod(
  db: Kysely<Database>,
  input: UpdateShippingMethodInput,
): Promise<ShippingMethodResult> {
  return db.transaction().execute(async (trx): Promise<ShippingMethodResult> => {
    const existing = isUuid(input.id) ? await lockShippingMethod(trx, input.id.toLowerCase()) : undefined;
    const errors: UserError[] = existing ? [] : [methodNotFound()];
    const name = input.name == null ? null : validateName(input.name, errors);
    const rateGiven = input.rateType != null || input.amount != null || input.bands != null;
    const rateType = input.rateType ?? existing?.rate_type ?? null;
    const amount = input.amount ?? null;
    const bands = input.bands ?? null;
    if (rateGiven) validateRate(rateType, amount, bands, errors);
    // Left out (undefined): unchanged; null: never free.
    const freeAbove = input.freeAbove;
    if (freeAbove !== undefined) validateFreeAbove(freeAbove, errors);
    if (errors.length > 0 || !existing) return { method: null, userErrors: errors };

    const rate: Pick<ShippingMethodRow, "rate_type" | "amount" | "bands"> =
      rateGiven && rateType !== null
        ? {
            rate_type: rateType,
            amount: rateType === "FLAT" ? amount : null,
            bands: rateType === "SUBTOTAL_BANDS" ? toBands(bands) : [],
          }
        : { rate_type: existing.rate_type, amount: existing.amount, bands: existing.bands };
    const row = await updateMethodRow(trx, existing.id, {
      name: name ?? existing.name,
      ...rate,
      free_above: freeAbove === undefined ? existing.free_above : freeAbove,
      active: input.active ?? existing.active,
    });
    return { method: toShippingMethodModel(row), userErrors: [] };
  });
}

/** Deletes a method; orders keep the snapshot of the method they were placed with. */
export async function deleteShippingMethod(
  db: Kysely<Database>,
  input: { id: string },
): Promise<DeleteResult> {
  const deleted = isUuid(input.id) && (await deleteMethodRow(db, input.id.toLowerCase()));
  return deleted ? { deleted, userErrors: [] } : { deleted, userErrors: [methodNotFound()] };
}
