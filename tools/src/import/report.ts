/** The import's report as text: what was read, what was left out and why, what the services made of it. */
import type { ImportOutcome, Tally } from "./client.ts";
import type { MalformedReason, SkipReason } from "./lines.ts";
import type { ImportPlan } from "./plan.ts";
import type { ReadStats } from "./read.ts";

const SKIP_LABELS: Record<SkipReason, string> = {
  "non-product-code": "non-product code (postage, fees, adjustments, vouchers)",
  "unusable-stock-code": "stock code the catalog cannot hold (letters, digits, dashes; at most 64)",
  "zero-price": "zero price",
  "negative-price": "negative price",
  "finer-than-minor-unit": "price finer than the currency's minor unit",
  "price-out-of-range": "price too large",
  "return-with-positive-quantity": "positive quantity on a return (C) invoice",
  "negative-quantity-on-sale": "negative quantity on a sale invoice",
};

const MALFORMED_LABELS: Record<MalformedReason, string> = {
  "csv-syntax": "not valid CSV (stray or unclosed quote)",
  "field-count": "wrong number of fields",
  "missing-invoice": "no invoice number",
  "missing-stock-code": "no stock code",
  "bad-quantity": "quantity not an integer",
  "zero-quantity": "zero quantity",
  "bad-date": "unreadable invoice date",
  "bad-price": "unreadable unit price",
};

const n = (value: number) => value.toLocaleString("en");
const TOP_CODES = 8;

export interface ReportInput {
  stats: ReadStats;
  plan: ImportPlan;
  /** Absent on a dry run. */
  outcome?: ImportOutcome;
  elapsedMs: number;
}

export function formatReport({ stats, plan, outcome, elapsedMs }: ReportInput): string {
  const out: string[] = [];
  const imported = stats.saleLines + stats.returnLines;
  const skipped = [...stats.skipped.values()].reduce((sum, entry) => sum + entry.count, 0);
  const malformed = [...stats.malformed.values()].reduce((sum, entry) => sum + entry.count, 0);
  out.push(`Lines read         ${n(stats.linesRead)}`);
  out.push(
    `Lines imported     ${n(imported)} (${n(stats.saleLines)} sale, ${n(stats.returnLines)} return; ${n(stats.guestLines)} of them guest lines)`,
  );
  if (plan.mergedLines > 0)
    out.push(`  merged into an earlier line of the same invoice and product: ${n(plan.mergedLines)}`);
  out.push(`Lines skipped      ${n(skipped)}`);
  for (const [reason, entry] of [...stats.skipped].sort((a, b) => b[1].count - a[1].count)) {
    const codes = [...entry.codes].sort((a, b) => b[1] - a[1]);
    const shown = codes.slice(0, TOP_CODES).map(([code, count]) => `${code} ${n(count)}`);
    if (codes.length > TOP_CODES) shown.push(`${codes.length - TOP_CODES} more codes`);
    out.push(
      `  ${SKIP_LABELS[reason]}: ${n(entry.count)}${shown.length > 0 ? ` (${shown.join(", ")})` : ""}`,
    );
  }
  out.push(`Lines malformed    ${n(malformed)}`);
  for (const [reason, entry] of [...stats.malformed].sort((a, b) => b[1].count - a[1].count)) {
    out.push(
      `  ${MALFORMED_LABELS[reason]}: ${n(entry.count)} (line ${entry.firstLines.join(", ")}${entry.count > entry.firstLines.length ? ", ..." : ""})`,
    );
  }
  if (plan.unknownCountries.size > 0) {
    const names = [...plan.unknownCountries].map(([name, count]) => `"${name}" ${n(count)}`).join(", ");
    out.push(`Unknown countries (imported without a country): ${names}`);
  }
  if (plan.mixedCustomerInvoices > 0) {
    out.push(`Invoices naming several customers (the first line's kept): ${n(plan.mixedCustomerInvoices)}`);
  }
  const row = (label: string, planned: number, tally?: Tally) =>
    tally
      ? `${label.padEnd(10)} ${n(planned).padStart(9)}  created ${n(tally.created).padStart(9)}  existing ${n(tally.existing).padStart(9)}${tally.failed > 0 ? `  failed ${n(tally.failed)}` : ""}`
      : `${label.padEnd(10)} ${n(planned).padStart(9)}`;
  out.push("");
  out.push(outcome ? "Loaded             in file" : "Found (dry run, nothing sent)");
  out.push(row("products", plan.products.length, outcome?.products));
  out.push(row("customers", plan.customers.length, outcome?.customers));
  out.push(row("orders", plan.orders.length, outcome?.orders));
  out.push(row("returns", plan.returns.length, outcome?.returns));
  if (outcome && outcome.userErrors.length > 0) {
    out.push("", "First errors reported by the services:", ...outcome.userErrors.map((e) => `  ${e}`));
  }
  const seconds = elapsedMs / 1000;
  out.push(
    "",
    `Elapsed ${seconds.toFixed(1)}s, ${n(Math.round(stats.linesRead / Math.max(seconds, 0.001)))} lines/s${outcome ? ` (${n(outcome.requests)} requests)` : ""}`,
  );
  return out.join("\n");
}
