/**
 * Streams an invoice-lines CSV (RFC 4180: quoted fields may hold commas, doubled quotes and line
 * breaks) through classification into an import plan, counting every line left out by reason.
 */
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { type CsvError, parse } from "csv-parse";
import {
  type Classified,
  classifyRecord,
  type Layout,
  type MalformedReason,
  readHeader,
  type SkipReason,
} from "./lines.ts";
import { type ImportPlan, PlanBuilder } from "./plan.ts";

/** How many line numbers are kept per malformed reason, to point at examples. */
export const EXAMPLE_LINES = 5;

export interface ReadStats {
  /** Records after the header (a record may span lines when a quoted field holds a line break). */
  linesRead: number;
  saleLines: number;
  returnLines: number;
  /** Sale and return lines without a customer: imported, as guest orders and returns. */
  guestLines: number;
  skipped: Map<SkipReason, { count: number; codes: Map<string, number> }>;
  malformed: Map<MalformedReason, { count: number; firstLines: number[] }>;
}

export interface ReadResult {
  stats: ReadStats;
  plan: ImportPlan;
}

export class HeaderError extends Error {}

/** Counts one classified record into the stats and, when it is a line, into the plan. */
export function tally(stats: ReadStats, builder: PlanBuilder, classified: Classified, line: number): void {
  switch (classified.kind) {
    case "sale":
    case "return":
      if (classified.kind === "sale") stats.saleLines++;
      else stats.returnLines++;
      if (classified.line.customerId === null) stats.guestLines++;
      builder.add(classified.kind, classified.line);
      return;
    case "skipped": {
      let entry = stats.skipped.get(classified.reason);
      if (!entry) {
        entry = { count: 0, codes: new Map() };
        stats.skipped.set(classified.reason, entry);
      }
      entry.count++;
      if (classified.code !== undefined)
        entry.codes.set(classified.code, (entry.codes.get(classified.code) ?? 0) + 1);
      return;
    }
    case "malformed":
      countMalformed(stats, classified.reason, line);
  }
}

function countMalformed(stats: ReadStats, reason: MalformedReason, line: number): void {
  let entry = stats.malformed.get(reason);
  if (!entry) {
    entry = { count: 0, firstLines: [] };
    stats.malformed.set(reason, entry);
  }
  entry.count++;
  if (entry.firstLines.length < EXAMPLE_LINES) entry.firstLines.push(line);
}

export const emptyStats = (): ReadStats => ({
  linesRead: 0,
  saleLines: 0,
  returnLines: 0,
  guestLines: 0,
  skipped: new Map(),
  malformed: new Map(),
});

/**
 * Reads the whole source. The header names the columns (any order); a record the CSV grammar
 * rejects (a stray quote) is counted as `csv-syntax` and reading goes on with the next one.
 */
export async function readInvoiceLines(
  source: Readable | AsyncIterable<string | Buffer>,
  minorDigits: number,
): Promise<ReadResult> {
  const stats = emptyStats();
  const builder = new PlanBuilder();
  let layout: Layout | null = null;
  let headerError: HeaderError | null = null;
  // The parser's own line count is off after a CRLF inside a quoted field, so lines are counted
  // here from each record's raw text. Records and skipped records arrive through callbacks, in
  // file order; none is held.
  let nextLine = 1;
  const advance = (raw: string | undefined) => {
    const line = nextLine;
    nextLine += raw?.match(LINE_BREAK)?.length ?? 1;
    return line;
  };
  const parser = parse({
    bom: true,
    raw: true,
    relax_column_count: true,
    skip_records_with_error: true,
    on_skip: (_error: CsvError | undefined, raw: string | undefined) => {
      stats.linesRead++;
      countMalformed(stats, "csv-syntax", advance(raw));
      return undefined;
    },
    // With `raw`, each record comes wrapped with the text it was read from.
    on_record: (entry: unknown) => {
      const { record, raw } = entry as { record: string[]; raw: string };
      const line = advance(raw);
      if (record.length === 1 && record[0]?.trim() === "") return null;
      if (layout === null) {
        if (headerError) return null;
        const header = readHeader(record);
        if (header.ok) layout = header.layout;
        else {
          headerError = new HeaderError(`the header lacks the columns ${header.missing.join(", ")}`);
          parser.destroy(headerError);
        }
        return null;
      }
      stats.linesRead++;
      tally(stats, builder, classifyRecord(record, layout, line, minorDigits), line);
      return null;
    },
  });
  try {
    await pipeline(source, parser, async (records: AsyncIterable<unknown>) => {
      // Every record is taken in on_record; this drains the (empty) output so the stream ends.
      for await (const _ of records);
    });
  } catch (error) {
    if (headerError) throw headerError;
    // An unclosed quote at the very end fails the whole stream, after every record before it
    // was read: it is one more broken record.
    if (!isCsvError(error)) throw error;
    stats.linesRead++;
    countMalformed(stats, "csv-syntax", nextLine);
  }
  if (headerError) throw headerError;
  if (layout === null) throw new HeaderError("the file is empty: no header");
  return { stats, plan: builder.build() };
}

const LINE_BREAK = /\r\n|\r|\n/g;

/**
 * The same as `readInvoiceLines` for records already split into fields (header first), such as
 * generated rows: no CSV text in between.
 */
export function readRecords(records: Iterable<readonly string[]>, minorDigits: number): ReadResult {
  const stats = emptyStats();
  const builder = new PlanBuilder();
  let layout: Layout | null = null;
  let line = 0;
  for (const record of records) {
    line++;
    if (layout === null) {
      const header = readHeader(record);
      if (!header.ok) throw new HeaderError(`the header lacks the columns ${header.missing.join(", ")}`);
      layout = header.layout;
      continue;
    }
    stats.linesRead++;
    tally(stats, builder, classifyRecord(record, layout, line, minorDigits), line);
  }
  if (layout === null) throw new HeaderError("no header");
  return { stats, plan: builder.build() };
}

function isCsvError(error: unknown): error is CsvError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === "string" && "lines" in error;
}
