/**
 * Parsing of the single fields of an invoice-lines CSV: money, quantities, invoice dates and
 * customer ids. Pure functions; a failure is a value naming what was wrong, never an exception.
 */

/** The largest value a GraphQL `Int` holds: prices and quantities travel as one. */
export const GRAPHQL_INT_MAX = 2_147_483_647;

export type FieldResult<T, R extends string> = { ok: true; value: T } | { ok: false; reason: R };

const DECIMAL = /^(-?)(\d*)(?:\.(\d*))?$/;

/**
 * A decimal amount in major units ("2.55") as an exact integer of minor units (255), without
 * going through a float. Trailing zeros past the minor unit are fine ("2.550"); any other digit
 * there ("0.001" in pounds) is `finer-than-minor-unit`: the line cannot be priced exactly.
 */
export function parseMoney(
  text: string,
  digits: number,
): FieldResult<number, "bad-price" | "finer-than-minor-unit" | "price-out-of-range"> {
  const match = DECIMAL.exec(text.trim());
  if (!match) return { ok: false, reason: "bad-price" };
  const [, sign, whole = "", fraction = ""] = match;
  if (whole === "" && fraction === "") return { ok: false, reason: "bad-price" };
  const kept = fraction.slice(0, digits).padEnd(digits, "0");
  if (/[^0]/.test(fraction.slice(digits))) return { ok: false, reason: "finer-than-minor-unit" };
  const digitsOnly = `${whole}${kept}`.replace(/^0+(?=\d)/, "");
  if (digitsOnly.length > 10) return { ok: false, reason: "price-out-of-range" };
  const magnitude = Number(digitsOnly === "" ? "0" : digitsOnly);
  if (magnitude > GRAPHQL_INT_MAX) return { ok: false, reason: "price-out-of-range" };
  return { ok: true, value: sign === "-" && magnitude !== 0 ? -magnitude : magnitude };
}

/** A quantity: an integer, optionally written with a zero fraction as spreadsheets export it ("12.0"). */
export function parseQuantity(text: string): FieldResult<number, "bad-quantity" | "zero-quantity"> {
  const match = /^([-+]?)(\d{1,10})(?:\.0*)?$/.exec(text.trim());
  if (!match) return { ok: false, reason: "bad-quantity" };
  const magnitude = Number(match[2]);
  if (magnitude > GRAPHQL_INT_MAX) return { ok: false, reason: "bad-quantity" };
  if (magnitude === 0) return { ok: false, reason: "zero-quantity" };
  return { ok: true, value: match[1] === "-" ? -magnitude : magnitude };
}

const ISO_LIKE = /^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$/;
const US_LIKE = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?$/;

/**
 * An invoice time, `YYYY-MM-DD HH:MM:SS` (seconds optional) or `M/D/YYYY H:MM` (month first,
 * seconds optional), as milliseconds since the epoch. The files carry no zone, so the time is
 * read as UTC: the same file gives the same history on every machine.
 */
export function parseInvoiceDate(text: string): FieldResult<number, "bad-date"> {
  // The lines of one invoice share its time: the last answer is usually the next one too.
  if (text === lastDate.text) return lastDate.result;
  const result = readInvoiceDate(text.trim());
  lastDate = { text, result };
  return result;
}

let lastDate: { text: string; result: FieldResult<number, "bad-date"> } = {
  text: "",
  result: { ok: false, reason: "bad-date" },
};

function readInvoiceDate(trimmed: string): FieldResult<number, "bad-date"> {
  let parts: (string | undefined)[] | null = null;
  const iso = ISO_LIKE.exec(trimmed);
  if (iso) parts = [iso[1], iso[2], iso[3], iso[4], iso[5], iso[6]];
  const us = iso ? null : US_LIKE.exec(trimmed);
  if (us) parts = [us[3], us[1], us[2], us[4], us[5], us[6]];
  if (!parts) return { ok: false, reason: "bad-date" };
  const [year, month, day, hour, minute, second] = parts.map((part) => Number(part ?? "0")) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (year < 1970 || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) {
    return { ok: false, reason: "bad-date" };
  }
  const time = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 31 April over to 1 May; a day the month does not have is a bad date.
  if (day < 1 || new Date(time).getUTCDate() !== day) return { ok: false, reason: "bad-date" };
  return { ok: true, value: time };
}

/**
 * A customer id as the store wrote it, or null for a guest (empty). A numeric id exported as
 * a float ("17850.0") is the same customer as "17850".
 */
export function parseCustomerId(text: string): string | null {
  const trimmed = text.trim();
  if (trimmed === "") return null;
  const floatLike = /^(\d+)\.0*$/.exec(trimmed);
  return floatLike ? (floatLike[1] as string) : trimmed;
}
