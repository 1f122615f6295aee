/**
 * `pnpm import:orders <file.csv> [--currency GBP] [--gateway URL] [--token T | --email E]
 *  [--concurrency N] [--dry-run]`: loads a store's history from an invoice-lines CSV through the
 * gateway (tools/README.md, "Importing a store's history").
 */
import { createReadStream } from "node:fs";
import { resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { DEFAULT_CURRENCY, isCurrencyCode, minorUnits } from "@nexus/core";
import { fixedToken, type ImportOutcome, importPlan, signIn, type TokenSource } from "./client.ts";
import { HeaderError, readInvoiceLines } from "./read.ts";
import { formatReport } from "./report.ts";

const USAGE = `Usage: pnpm import:orders <file.csv> [--currency STORE_CURRENCY or ${DEFAULT_CURRENCY}] [--gateway URL]
       [--token TOKEN | --email STAFF_EMAIL] [--concurrency 3] [--dry-run]

The token (or NEXUS_TOKEN) must carry the store:import scope; with --email the password comes
from NEXUS_PASSWORD or is asked for.`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    // Prices are read in the store's currency unless the file's is named.
    currency: { type: "string", default: process.env.STORE_CURRENCY ?? DEFAULT_CURRENCY },
    gateway: { type: "string", default: `http://localhost:${process.env.GATEWAY_PORT ?? "4000"}/graphql` },
    token: { type: "string" },
    email: { type: "string" },
    concurrency: { type: "string", default: "3" },
    "dry-run": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});

const fail = (message: string): never => {
  process.stderr.write(`${message}\n`);
  process.exit(2);
};

if (values.help || positionals.length !== 1) fail(USAGE);
const currencyCode = values.currency.toUpperCase();
if (!isCurrencyCode(currencyCode)) fail(`--currency must be an ISO 4217 code, not "${values.currency}"`);
const concurrency = Number(values.concurrency);
if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 8)
  fail("--concurrency must be 1 to 8");
// pnpm runs the script from the repository root; the path is the one typed where pnpm was called.
const file = resolve(process.env.INIT_CWD ?? process.cwd(), positionals[0] as string);

async function tokens(): Promise<TokenSource> {
  const token = values.token ?? process.env.NEXUS_TOKEN;
  if (token) return fixedToken(token);
  if (!values.email) return fail(`${USAGE}\n\nGive --token, NEXUS_TOKEN or --email.`);
  let password = process.env.NEXUS_PASSWORD;
  if (!password) {
    const terminal = createInterface({ input: process.stdin, output: process.stderr });
    password = await terminal.question(`Password for ${values.email}: `);
    terminal.close();
  }
  return signIn(values.gateway, values.email, password);
}

const started = performance.now();
try {
  // Signed in first, so a wrong password does not wait for the whole file to be read.
  const source = values["dry-run"] ? null : await tokens();
  const { stats, plan } = await readInvoiceLines(createReadStream(file), minorUnits(currencyCode));
  const readSeconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(
    `Read ${stats.linesRead.toLocaleString("en")} lines in ${readSeconds}s: ${plan.orders.length.toLocaleString("en")} orders, ${plan.returns.length.toLocaleString("en")} returns\n`,
  );
  let outcome: ImportOutcome | undefined;
  if (source) {
    outcome = await importPlan(plan, {
      endpoint: values.gateway,
      tokens: source,
      currencyCode,
      concurrency,
      log: (line) => process.stderr.write(`  ${line}\n`),
    });
  }
  process.stdout.write(`${formatReport({ stats, plan, outcome, elapsedMs: performance.now() - started })}\n`);
  const failed = outcome
    ? outcome.products.failed + outcome.customers.failed + outcome.orders.failed + outcome.returns.failed
    : 0;
  process.exitCode = failed > 0 ? 1 : 0;
} catch (error) {
  if (error instanceof HeaderError) fail(`${file}: ${error.message}`);
  process.stderr.write(`Import failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
