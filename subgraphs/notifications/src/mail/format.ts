import type { Address } from "@nexus/core";

/**
 * Formatting for messages: escaping, links, money, dates and addresses. Everything a template
 * interpolates goes through here, so one place decides what user data may become in an email.
 */

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text made safe for an HTML element's content or a quoted attribute value. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] as string);
}

/**
 * A link target for an email, or null when the value is not an absolute http(s) URL: anything
 * else (`javascript:`, `data:`, a relative path) would either run in a web mail client or point
 * nowhere, so it is left out rather than linked.
 */
export function safeUrl(value: string | null | undefined): string | null {
  if (!value) return null;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  return url.href;
}

/**
 * User data on one line: line breaks, tabs and other control characters become single spaces.
 * Subjects and inbox summaries are one line, and a name that breaks lines could otherwise forge
 * lines of a plain-text body.
 */
export function oneLine(value: string): string {
  return flatten(value).replace(/\s+/g, " ").trim();
}

/** Control characters and line breaks as spaces, nothing trimmed: for runs of text inside a line. */
export function flatten(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  return value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ");
}

/** At most `max` characters (by code point), with an ellipsis when cut. */
export function truncate(value: string, max: number): string {
  const chars = Array.from(value);
  if (chars.length <= max) return value;
  return `${chars
    .slice(0, max - 1)
    .join("")
    .trimEnd()}…`;
}

/** Display locale of every message; the store names its currency, not its language. */
const LOCALE = "en";

const currencyFormats = new Map<string, Intl.NumberFormat | null>();

function currencyFormat(currencyCode: string): Intl.NumberFormat | null {
  let format = currencyFormats.get(currencyCode);
  if (format === undefined) {
    try {
      format = new Intl.NumberFormat(LOCALE, { style: "currency", currency: currencyCode });
    } catch {
      format = null;
    }
    currencyFormats.set(currencyCode, format);
  }
  return format;
}

/** Digits of a currency's minor unit: 2 for EUR, 0 for JPY, 3 for KWD (ISO 4217, from ICU). */
export function minorUnitDigits(currencyCode: string): number {
  return currencyFormat(currencyCode)?.resolvedOptions().maximumFractionDigits ?? 2;
}

/** An integer of minor units as an exact decimal string in major units: 1999, 2 -> "19.99". */
function toDecimal(amount: number, digits: number): string {
  const negative = amount < 0;
  const units = BigInt(Math.trunc(Math.abs(amount)))
    .toString()
    .padStart(digits + 1, "0");
  const whole = units.slice(0, units.length - digits);
  const fraction = units.slice(units.length - digits);
  return `${negative ? "-" : ""}${whole}${digits > 0 ? `.${fraction}` : ""}`;
}

/**
 * Money in minor units as a customer reads it: 1999 EUR -> "€19.99", 1500 JPY -> "¥1,500".
 * Formatted from an exact decimal string, never through a float division. A code ICU refuses
 * is shown after the amount, read with two decimals.
 */
export function formatMoney(amount: number, currencyCode: string): string {
  const format = currencyFormat(currencyCode);
  if (!format) return `${toDecimal(amount, 2)} ${oneLine(currencyCode)}`;
  const decimal = toDecimal(amount, format.resolvedOptions().maximumFractionDigits ?? 2);
  return format.format(decimal as Intl.StringNumericLiteral);
}

const dateTimeFormat = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "long",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
  timeZone: "UTC",
});

/**
 * A moment as "3 December 2026, 17:55 UTC". In UTC, said so: a message is rendered once, by a
 * worker that does not know where its reader is.
 */
export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return oneLine(iso);
  const parts = Object.fromEntries(dateTimeFormat.formatToParts(date).map((part) => [part.type, part.value]));
  return `${parts.day} ${parts.month} ${parts.year}, ${parts.hour}:${parts.minute} UTC`;
}

const regionNames = new Intl.DisplayNames(LOCALE, { type: "region", fallback: "code" });

/** "GB" -> "United Kingdom"; an unknown code stays as it is. */
export function countryName(countryCode: string): string {
  try {
    return regionNames.of(countryCode.toUpperCase()) ?? countryCode;
  } catch {
    return oneLine(countryCode);
  }
}

/** An address as the lines of an envelope, empty parts left out. */
export function addressLines(address: Address): string[] {
  const place = [address.city, address.region ?? ""].map(oneLine).filter((part) => part !== "");
  return [
    address.name,
    address.line1,
    address.line2 ?? "",
    `${place.join(", ")} ${oneLine(address.postalCode)}`,
    countryName(address.countryCode),
  ]
    .map(oneLine)
    .filter((line) => line !== "");
}

/** "1 item", "3 items". */
export function plural(count: number, one: string, many: string): string {
  return `${count.toLocaleString(LOCALE)} ${count === 1 ? one : many}`;
}

/**
 * A short order reference for subjects and summaries: the first 8 characters of a UUID,
 * upper-cased; other ids as they are, cut to 20. The body always gives the full id.
 */
export function orderReference(orderId: string): string {
  const id = oneLine(orderId);
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-/i.test(id)) return id.slice(0, 8).toUpperCase();
  return truncate(id, 20);
}
