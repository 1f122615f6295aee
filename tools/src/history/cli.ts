/**
 * `pnpm generate:history --out file.csv [--customers N] [--months M] [--seed S]
 *  [--start YYYY-MM-DD] [--products P] [--date-format iso|us]`: writes a generated store history
 * in the invoice-lines CSV format (./README.md).
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { cliChecks } from "../cli.ts";
import { writeHistoryCsv } from "./generate.ts";

const { values } = parseArgs({
  options: {
    out: { type: "string" },
    customers: { type: "string", default: "4400" },
    months: { type: "string", default: "12" },
    seed: { type: "string", default: "1" },
    start: { type: "string", default: "2025-01-01" },
    products: { type: "string" },
    "date-format": { type: "string", default: "iso" },
  },
});

const { fail, whole } = cliChecks(
  "Usage: pnpm generate:history --out file.csv [--customers 4400] [--months 12] [--seed 1] [--start 2025-01-01] [--products N] [--date-format iso|us]",
);

if (!values.out) fail("--out is required");
const dateFormat = values["date-format"];
if (dateFormat !== "iso" && dateFormat !== "us") fail("--date-format must be iso or us");
const options = {
  customers: whole("customers", values.customers, 1, 1_000_000),
  months: whole("months", values.months, 1, 120),
  seed: whole("seed", values.seed, 0, 2 ** 32 - 1),
  start: values.start,
  products: values.products === undefined ? undefined : whole("products", values.products, 1, 1_000_000),
  dateFormat: dateFormat as "iso" | "us",
};
// pnpm runs the script from the repository root; the path is the one typed where pnpm was called.
const path = resolve(process.env.INIT_CWD ?? process.cwd(), values.out as string);
const started = performance.now();
try {
  const summary = await writeHistoryCsv(path, options);
  const seconds = (performance.now() - started) / 1000;
  const n = (value: number) => value.toLocaleString("en");
  process.stdout.write(
    `Wrote ${path}: ${n(summary.lines)} lines, ${n(summary.invoices)} invoices (${n(summary.returns)} returns), ${n(summary.customers)} customers, ${n(summary.products)} codes, ${(summary.bytes / 1_048_576).toFixed(1)} MiB in ${seconds.toFixed(1)}s\n`,
  );
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
