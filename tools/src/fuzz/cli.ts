/**
 * `pnpm fuzz [--seed N] [--count N] [--case I[,J...]] [--concurrency N]`: starts the whole
 * stack in-process (fresh databases, MongoDB at MONGO_URL or the embedded server), runs
 * `count` generated operations as anonymous clients, customers, partners and admins, prints
 * the summary and every failure with its reproduction, and exits 1 when anything failed.
 * Without `--seed` a random seed is drawn and printed; `--case` replays single cases of it.
 */
import { parseArgs } from "node:util";
import { connectMongo } from "@nexus/stores";
import { formatReport } from "./report.ts";
import { runFuzz } from "./run.ts";
import { startFuzzStack } from "./stack.ts";

const { values } = parseArgs({
  options: {
    seed: { type: "string" },
    count: { type: "string", default: "5000" },
    case: { type: "string" },
    concurrency: { type: "string", default: "4" },
  },
});

const integer = (name: string, text: string | undefined, min: number): number => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    console.error(`--${name} must be an integer of at least ${min}, not ${text}`);
    process.exit(2);
  }
  return value;
};

const seed =
  values.seed === undefined ? Math.floor(Math.random() * 2 ** 32) : integer("seed", values.seed, 0);
const count = integer("count", values.count, 1);
const cases = values.case?.split(",").map((index) => integer("case", index, 0));
const concurrency = integer("concurrency", values.concurrency, 1);

console.error(`fuzz: seed ${seed}; starting the stack…`);
const mongo = await connectMongo({
  url: process.env.MONGO_URL ?? "mongodb://127.0.0.1:27017/",
  database: "admin",
  embeddedFallback: true,
});
let failed = false;
try {
  const fuzz = await startFuzzStack(mongo.url);
  try {
    const started = performance.now();
    let done = 0;
    const total = cases?.length ?? count;
    const report = await runFuzz({
      endpoint: fuzz.stack.endpoint,
      schema: fuzz.schema,
      known: fuzz.known,
      credentials: fuzz.credentials,
      seed,
      count,
      cases,
      concurrency,
      onResult: () => {
        done += 1;
        if (done % 500 === 0) console.error(`fuzz: ${done}/${total}`);
      },
    });
    console.log(formatReport(report, performance.now() - started));
    failed = report.failures.length > 0;
  } finally {
    await fuzz.stack.stop();
  }
} finally {
  await mongo.close();
}
process.exit(failed ? 1 : 0);
