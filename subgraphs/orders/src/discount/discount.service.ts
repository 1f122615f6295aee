import { randomUUID } from "node:crypto";
import {
  type Connection,
  cursorPart,
  encodeCursor,
  inputField,
  isObjectIdHex,
  isUuid,
  pageSize,
  readCursor,
  toConnection,
  userError,
} from "@nexus/core";
import type { Kysely } from "kysely";
import type { Database, DiscountKind, DiscountScope } from "../db/database.ts";
import { percentToPpm } from "../pricing/pricing.ts";
import type { UserError } from "../user-error.ts";
import type { DiscountModel } from "./discount.model.ts";
import {
  countDiscounts,
  type DiscountChanges,
  type DiscountKey,
  type DiscountListFilter,
  discountCodeExists,
  findDiscountById,
  findDiscountForUpdate,
  findDiscountPage,
  insertDiscount,
  isDiscountCodeTaken,
  toDiscountModel,
  updateDiscountRow,
} from "./discount.repository.ts";

export interface CreateDiscountInput {
  code?: string | null;
  title: string;
  kind: DiscountKind;
  percentOff?: number | null;
  amountOff?: number | null;
  minimumSubtotal?: number | null;
  startsAt?: Date | null;
  endsAt?: Date | null;
  usageLimit?: number | null;
  perCustomerLimit?: number | null;
  scope?: DiscountScope | null;
  categoryIds?: readonly string[] | null;
  productIds?: readonly string[] | null;
}

/** A field left out (undefined) stays as it is; null clears an optional one. */
export interface UpdateDiscountInput {
  id: string;
  title?: string | null;
  minimumSubtotal?: number | null;
  startsAt?: Date | null;
  endsAt?: Date | null;
  usageLimit?: number | null;
  perCustomerLimit?: number | null;
  active?: boolean | null;
}

export interface DiscountListArgs {
  first?: number | null;
  after?: string | null;
  filter?: { code?: string | null; active?: boolean | null; automatic?: boolean | null } | null;
}

export type DiscountResult = { discount: DiscountModel | null; userErrors: UserError[] };

const CODE = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_TITLE = 200;
const MAX_IDS = 100;
const MAX_CATEGORY_ID = 100;
/** 100% in parts per million. */
const FULL_PPM = 1_000_000;
/** Dates a discount may start or end at: the instants cursors and the database both hold safely. */
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(10000, 0, 1) - 1;

function readTitle(title: string | null, errors: UserError[]): string {
  const trimmed = title?.trim() ?? "";
  if (trimmed.length === 0 || trimmed.length > MAX_TITLE) {
    errors.push(
      userError("INVALID_TITLE", `title must be 1 to ${MAX_TITLE} characters.`, inputField("title")),
    );
  }
  return trimmed;
}

function checkAmount(
  field: string,
  value: number | null | undefined,
  min: number,
  errors: UserError[],
): void {
  if (value === null || value === undefined) return;
  if (!Number.isSafeInteger(value) || value < min) {
    errors.push(
      userError("INVALID_AMOUNT", `${field} must be ${min} or more minor units.`, inputField(field)),
    );
  }
}

function checkLimit(field: string, value: number | null | undefined, errors: UserError[]): void {
  if (value === null || value === undefined) return;
  if (!Number.isSafeInteger(value) || value < 1) {
    errors.push(userError("INVALID_LIMIT", `${field} must be 1 or more.`, inputField(field)));
  }
}

const inDateRange = (date: Date) => {
  const time = date.getTime();
  return Number.isFinite(time) && time >= EARLIEST && time <= LATEST;
};

/**
 * Checks a discount's dates as they will be after the change: each a real instant between 1970
 * and 9999, and `endsAt` after `startsAt`. The error goes to the field the input gave.
 */
function checkDates(
  startsAt: Date | null,
  endsAt: Date | null,
  given: { startsAt: boolean; endsAt: boolean },
  errors: UserError[],
): void {
  let ranged = true;
  for (const [field, date] of [
    ["startsAt", startsAt],
    ["endsAt", endsAt],
  ] as const) {
    if (date !== null && given[field] && !inDateRange(date)) {
      errors.push(userError("INVALID_DATES", `${field} must be between 1970 and 9999.`, inputField(field)));
      ranged = false;
    }
  }
  if (ranged && startsAt !== null && endsAt !== null && endsAt.getTime() <= startsAt.getTime()) {
    errors.push(
      userError(
        "INVALID_DATES",
        "endsAt must be after startsAt.",
        inputField(given.endsAt ? "endsAt" : "startsAt"),
      ),
    );
  }
}

function readValue(
  input: CreateDiscountInput,
  errors: UserError[],
): { percentPpm: number | null; amount: number | null } {
  const percentOff = input.percentOff ?? null;
  const amountOff = input.amountOff ?? null;
  let percentPpm: number | null = null;
  if (input.kind === "PERCENTAGE") {
    const ppm = percentOff === null ? null : percentToPpm(percentOff);
    if (ppm === null || ppm < 1 || ppm > FULL_PPM) {
      errors.push(
        userError(
          "INVALID_DISCOUNT_VALUE",
          "A PERCENTAGE discount needs percentOff from 0.0001 to 100, with at most four decimals.",
          inputField("percentOff"),
        ),
      );
    } else {
      percentPpm = ppm;
    }
  } else if (percentOff !== null) {
    errors.push(
      userError(
        "INVALID_DISCOUNT_VALUE",
        "Only a PERCENTAGE discount takes percentOff.",
        inputField("percentOff"),
      ),
    );
  }
  if (input.kind === "FIXED_AMOUNT") {
    if (amountOff === null) {
      errors.push(
        userError(
          "INVALID_DISCOUNT_VALUE",
          "A FIXED_AMOUNT discount needs amountOff.",
          inputField("amountOff"),
        ),
      );
    } else {
      checkAmount("amountOff", amountOff, 1, errors);
    }
  } else if (amountOff !== null) {
    errors.push(
      userError(
        "INVALID_DISCOUNT_VALUE",
        "Only a FIXED_AMOUNT discount takes amountOff.",
        inputField("amountOff"),
      ),
    );
  }
  return { percentPpm, amount: input.kind === "FIXED_AMOUNT" ? amountOff : null };
}

/** The ids a scope applies to, each checked, deduplicated in the order given. */
function readScope(
  scope: DiscountScope,
  input: CreateDiscountInput,
  errors: UserError[],
): { categoryIds: string[]; productIds: string[] } {
  const categoryIds = input.categoryIds ?? [];
  const productIds = input.productIds ?? [];
  const needs = (field: "categoryIds" | "productIds", ids: readonly string[], wanted: boolean) => {
    if (!wanted && ids.length > 0) {
      errors.push(userError("INVALID_SCOPE", `A ${scope} discount takes no ${field}.`, inputField(field)));
    }
    if (wanted && (ids.length === 0 || ids.length > MAX_IDS)) {
      errors.push(
        userError("INVALID_SCOPE", `A ${scope} discount needs 1 to ${MAX_IDS} ${field}.`, inputField(field)),
      );
    }
  };
  needs("categoryIds", categoryIds, scope === "CATEGORIES");
  needs("productIds", productIds, scope === "PRODUCTS");
  if (scope === "CATEGORIES") {
    categoryIds.forEach((id, i) => {
      if (id.length === 0 || id.length > MAX_CATEGORY_ID) {
        errors.push(
          userError(
            "INVALID_SCOPE",
            `A category id is 1 to ${MAX_CATEGORY_ID} characters.`,
            inputField("categoryIds", i),
          ),
        );
      }
    });
  }
  if (scope === "PRODUCTS") {
    productIds.forEach((id, i) => {
      if (!isObjectIdHex(id)) {
        errors.push(
          userError(
            "INVALID_SCOPE",
            "A product id is 24 hexadecimal characters.",
            inputField("productIds", i),
          ),
        );
      }
    });
  }
  return {
    categoryIds: scope === "CATEGORIES" ? [...new Set(categoryIds)] : [],
    productIds: scope === "PRODUCTS" ? [...new Set(productIds.map((id) => id.toLowerCase()))] : [],
  };
}

const duplicateCode = () =>
  userError("DUPLICATE_DISCOUNT_CODE", "Another discount already has this code.", inputField("code"));

/**
 * Creates a discount after checking all of its input at once; nothing is written when anything
 * is wrong. A code taken by another discount is DUPLICATE_DISCOUNT_CODE, also when a concurrent
 * create takes it between the check and the insert (the unique index decides).
 */
export async function createDiscount(
  db: Kysely<Database>,
  input: CreateDiscountInput,
): Promise<DiscountResult> {
  const errors: UserError[] = [];
  let code: string | null = null;
  if (input.code !== null && input.code !== undefined) {
    const trimmed = input.code.trim();
    if (CODE.test(trimmed)) {
      code = trimmed.toUpperCase();
    } else {
      errors.push(
        userError(
          "INVALID_DISCOUNT_CODE",
          "code must be 1 to 64 letters, digits, _ or -; leave it out for an automatic discount.",
          inputField("code"),
        ),
      );
    }
  }
  const title = readTitle(input.title, errors);
  const value = readValue(input, errors);
  checkAmount("minimumSubtotal", input.minimumSubtotal, 0, errors);
  const startsAt = input.startsAt ?? null;
  const endsAt = input.endsAt ?? null;
  checkDates(startsAt, endsAt, { startsAt: true, endsAt: true }, errors);
  checkLimit("usageLimit", input.usageLimit, errors);
  checkLimit("perCustomerLimit", input.perCustomerLimit, errors);
  const scope = input.scope ?? "ORDER";
  const ids = readScope(scope, input, errors);
  if (code !== null && (await discountCodeExists(db, code))) errors.push(duplicateCode());
  if (errors.length > 0) return { discount: null, userErrors: errors };

  try {
    const row = await insertDiscount(db, {
      id: randomUUID(),
      code,
      title,
      kind: input.kind,
      percent_ppm: value.percentPpm,
      amount: value.amount,
      minimum_subtotal: input.minimumSubtotal ?? null,
      starts_at: startsAt,
      ends_at: endsAt,
      usage_limit: input.usageLimit ?? null,
      per_customer_limit: input.perCustomerLimit ?? null,
      scope,
      category_ids: ids.categoryIds,
      product_ids: ids.productIds,
    });
    return { discount: toDiscountModel(row), userErrors: [] };
  } catch (error) {
    if (isDiscountCodeTaken(error)) return { discount: null, userErrors: [duplicateCode()] };
    throw error;
  }
}

const notFound = () =>
  userError("DISCOUNT_NOT_FOUND", "There is no discount with this id.", inputField("id"));

/** The value a field takes: the input's when given (null included), else the row's. */
const given = <T>(value: T | undefined, current: T): T => (value === undefined ? current : value);

/**
 * Changes what may change of a discount (title, dates, limits, minimum, active), checking all
 * of it at once. The discount's row is locked while it is checked and written, so a usage
 * limit is compared with a count no redemption can move meanwhile (LIMIT_BELOW_USAGE).
 */
export async function updateDiscount(
  db: Kysely<Database>,
  input: UpdateDiscountInput,
): Promise<DiscountResult> {
  const errors: UserError[] = [];
  const changes: DiscountChanges = {};
  if (input.title !== undefined) changes.title = readTitle(input.title, errors);
  if (input.minimumSubtotal !== undefined) {
    checkAmount("minimumSubtotal", input.minimumSubtotal, 0, errors);
    changes.minimum_subtotal = input.minimumSubtotal;
  }
  if (input.usageLimit !== undefined) {
    checkLimit("usageLimit", input.usageLimit, errors);
    changes.usage_limit = input.usageLimit;
  }
  if (input.perCustomerLimit !== undefined) {
    checkLimit("perCustomerLimit", input.perCustomerLimit, errors);
    changes.per_customer_limit = input.perCustomerLimit;
  }
  if (input.startsAt !== undefined) changes.starts_at = input.startsAt;
  if (input.endsAt !== undefined) changes.ends_at = input.endsAt;
  if (input.active !== undefined && input.active !== null) changes.active = input.active;

  if (!isUuid(input.id)) {
    checkDates(input.startsAt ?? null, input.endsAt ?? null, datesGiven(input), errors);
    return { discount: null, userErrors: [notFound(), ...errors] };
  }
  const id = input.id.toLowerCase();
  return db.transaction().execute(async (trx): Promise<DiscountResult> => {
    const current = await findDiscountForUpdate(trx, id);
    if (!current) {
      checkDates(input.startsAt ?? null, input.endsAt ?? null, datesGiven(input), errors);
      return { discount: null, userErrors: [notFound(), ...errors] };
    }
    checkDates(
      given(input.startsAt, current.starts_at),
      given(input.endsAt, current.ends_at),
      datesGiven(input),
      errors,
    );
    const usageLimit = given(input.usageLimit, current.usage_limit);
    if (
      input.usageLimit !== undefined &&
      usageLimit !== null &&
      usageLimit >= 1 &&
      usageLimit < current.used_count
    ) {
      errors.push(
        userError(
          "LIMIT_BELOW_USAGE",
          `usageLimit cannot be below the ${current.used_count} use(s) the discount already has.`,
          inputField("usageLimit"),
        ),
      );
    }
    if (errors.length > 0) return { discount: null, userErrors: errors };
    if (Object.keys(changes).length === 0) return { discount: toDiscountModel(current), userErrors: [] };
    const row = await updateDiscountRow(trx, id, changes);
    return { discount: toDiscountModel(row), userErrors: [] };
  });
}

const datesGiven = (input: UpdateDiscountInput) => ({
  startsAt: input.startsAt !== undefined,
  endsAt: input.endsAt !== undefined,
});

/** One discount by id; null for an unknown or malformed id. */
export async function findDiscount(db: Kysely<Database>, id: string): Promise<DiscountModel | null> {
  if (!isUuid(id)) return null;
  const row = await findDiscountById(db, id.toLowerCase());
  return row ? toDiscountModel(row) : null;
}

const cursorOf = (discount: DiscountModel): string =>
  encodeCursor([discount.createdAt.toISOString(), discount.id]);

/**
 * `Query.discounts`: newest first (created_at, then id, both descending), one statement for the
 * page and one for the count. A code filter matches case-insensitively, as codes are stored
 * upper case.
 */
export async function listDiscounts(
  db: Kysely<Database>,
  args: DiscountListArgs,
): Promise<Connection<DiscountModel>> {
  const first = pageSize(args.first);
  const position = readCursor(args.after, [cursorPart.isoInstant, cursorPart.uuid]);
  const after: DiscountKey | null = position && { createdAt: position[0], id: position[1].toLowerCase() };
  const filter: DiscountListFilter = {
    code: args.filter?.code?.trim().toUpperCase() ?? null,
    active: args.filter?.active ?? null,
    automatic: args.filter?.automatic ?? null,
  };
  const [rows, totalCount] = await Promise.all([
    findDiscountPage(db, { filter, after, limit: first + 1 }),
    countDiscounts(db, filter),
  ]);
  return toConnection(rows.map(toDiscountModel), first, totalCount, cursorOf, after !== null);
}
