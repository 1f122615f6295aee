/**
 * One record of an invoice-lines CSV -> a typed sale or return line, or the reason it is left
 * out. The columns are found by header name, so their order does not matter.
 */
import { type FieldResult, parseCustomerId, parseInvoiceDate, parseMoney, parseQuantity } from "./fields.ts";

export const COLUMNS = [
  "InvoiceNo",
  "StockCode",
  "Description",
  "Quantity",
  "InvoiceDate",
  "UnitPrice",
  "CustomerID",
  "Country",
] as const;
export type Column = (typeof COLUMNS)[number];
export type ColumnIndex = Record<Column, number>;
/** Where each column is, and how many fields every record has (the header's count). */
export interface Layout {
  index: ColumnIndex;
  width: number;
}

/** Other spellings of the same columns found in exports of such data. */
const ALIASES: Record<string, Column> = {
  invoice: "InvoiceNo",
  price: "UnitPrice",
  "customer id": "CustomerID",
};

/** Where each column is in the header, or the columns it lacks. */
export function readHeader(
  header: readonly string[],
): { ok: true; layout: Layout } | { ok: false; missing: Column[] } {
  const found = new Map<Column, number>();
  header.forEach((name, position) => {
    const key = name.trim().toLowerCase();
    const column = COLUMNS.find((c) => c.toLowerCase() === key) ?? ALIASES[key];
    if (column && !found.has(column)) found.set(column, position);
  });
  const missing = COLUMNS.filter((column) => !found.has(column));
  if (missing.length > 0) return { ok: false, missing };
  return { ok: true, layout: { index: Object.fromEntries(found) as ColumnIndex, width: header.length } };
}

/** A line that is imported: a sale, or an item given back on a return (credit) invoice. */
export interface InvoiceLine {
  /** Line of the file the record ends on (1 = the header). */
  line: number;
  invoiceNo: string;
  /** Trimmed and upper-cased: exports write the same code in either case. */
  stockCode: string;
  description: string;
  /** Positive: for a return, the quantity given back. */
  quantity: number;
  /** Milliseconds since the epoch (the file's times read as UTC). */
  at: number;
  /** Minor units of the import's currency, > 0. */
  unitPrice: number;
  /** Null for a guest. */
  customerId: string | null;
  country: string;
}

/** The record is broken: it cannot be read as a line at all. */
export type MalformedReason =
  | "csv-syntax"
  | "field-count"
  | "missing-invoice"
  | "missing-stock-code"
  | "bad-quantity"
  | "zero-quantity"
  | "bad-date"
  | "bad-price";

/** The record is well formed but is not a sale or return of a product. */
export type SkipReason =
  | "non-product-code"
  | "unusable-stock-code"
  | "zero-price"
  | "negative-price"
  | "finer-than-minor-unit"
  | "price-out-of-range"
  | "return-with-positive-quantity"
  | "negative-quantity-on-sale";

export type Classified =
  | { kind: "sale" | "return"; line: InvoiceLine }
  | { kind: "skipped"; reason: SkipReason; code?: string }
  | { kind: "malformed"; reason: MalformedReason };

/**
 * Whether a code is a postage, fee, adjustment, voucher or test line rather than a product, and
 * under which label it is counted. The rule: a stock code names goods and carries a number of
 * at least three digits (`85123A`, `22423`, `DCGS0003`, `COO-00012`); codes without one are
 * charges and adjustments (`POST`, `DOT`, `M`, `C2`, `BANK CHARGES`, `AMAZONFEE`, `CRUK`, `PADS`,
 * `S`, `B`, `D`, `ADJUST2`). Gift vouchers (`gift_0001_40`) and test lines (`TEST001`) carry
 * digits and are named by their prefix.
 */
export function nonProductLabel(stockCode: string): string | null {
  const code = stockCode.trim().toUpperCase();
  if (code.startsWith("GIFT_")) return "GIFT_*";
  if (code.startsWith("TEST")) return "TEST*";
  return /\d{3}/.test(code) ? null : code;
}

/**
 * What the catalog accepts as a sku: 1 to 64 letters, digits and dashes, starting with a letter
 * or digit. A product code outside it could never be imported.
 */
export const SKU = /^[A-Z0-9][A-Z0-9-]{0,63}$/;

const MALFORMED = (reason: MalformedReason): Classified => ({ kind: "malformed", reason });
const SKIPPED = (reason: SkipReason, code?: string): Classified =>
  code === undefined ? { kind: "skipped", reason } : { kind: "skipped", reason, code };

function field<T, R extends string>(result: FieldResult<T, R>): T | null {
  return result.ok ? result.value : null;
}

/**
 * Reads and classifies one record. Checks run in a fixed order, the first failing one naming
 * the reason: the record's shape and fields (malformed), then what the line is (skipped).
 * A return is a line of an invoice whose number starts with C, with a negative quantity.
 */
export function classifyRecord(
  record: readonly string[],
  { index, width }: Layout,
  line: number,
  minorDigits: number,
): Classified {
  if (record.length !== width) return MALFORMED("field-count");
  const get = (column: Column) => record[index[column]] ?? "";
  const invoiceNo = get("InvoiceNo").trim();
  if (invoiceNo === "") return MALFORMED("missing-invoice");
  const stockCode = get("StockCode").trim().toUpperCase();
  if (stockCode === "") return MALFORMED("missing-stock-code");
  const quantity = parseQuantity(get("Quantity"));
  if (!quantity.ok) return MALFORMED(quantity.reason);
  const at = field(parseInvoiceDate(get("InvoiceDate")));
  if (at === null) return MALFORMED("bad-date");
  const price = parseMoney(get("UnitPrice"), minorDigits);
  let unitPrice = 0;
  let unpriceable: SkipReason | null = null;
  if (price.ok) unitPrice = price.value;
  else if (price.reason === "bad-price") return MALFORMED("bad-price");
  else unpriceable = price.reason;

  const label = nonProductLabel(stockCode);
  if (label !== null) return SKIPPED("non-product-code", label);
  if (!SKU.test(stockCode)) return SKIPPED("unusable-stock-code", stockCode);
  if (unpriceable !== null) return SKIPPED(unpriceable);
  if (unitPrice === 0) return SKIPPED("zero-price");
  if (unitPrice < 0) return SKIPPED("negative-price");
  const isReturn = invoiceNo.toUpperCase().startsWith("C");
  if (isReturn && quantity.value > 0) return SKIPPED("return-with-positive-quantity");
  if (!isReturn && quantity.value < 0) return SKIPPED("negative-quantity-on-sale");
  return {
    kind: isReturn ? "return" : "sale",
    line: {
      line,
      invoiceNo,
      stockCode,
      description: get("Description").trim(),
      quantity: Math.abs(quantity.value),
      at,
      unitPrice,
      customerId: parseCustomerId(get("CustomerID")),
      country: get("Country").trim(),
    },
  };
}
