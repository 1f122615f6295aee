/**
 * A slice of `pnpm fuzz` for CI: a fixed seed, a thousand generated operations against the
 * whole stack as anonymous clients, customers, partners and admins. Every answer must be
 * well-formed GraphQL over HTTP, with no 5xx and no INTERNAL_SERVER_ERROR. A failure message
 * carries each failure's reproduction (`pnpm fuzz --seed 20260 --case N` replays one).
 */

import { describeResult } from "@nexus/tools/fuzz/report";
import { FUZZ_ROLES, type FuzzReport, runFuzz } from "@nexus/tools/fuzz/run";
import { type FuzzStack, startFuzzStack } from "@nexus/tools/fuzz/stack";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const SEED = 20260;
const COUNT = 1000;

let fuzz: FuzzStack;
let report: FuzzReport;
beforeAll(async () => {
  fuzz = await startFuzzStack(inject("mongoUrl"));
  report = await runFuzz({
    endpoint: fuzz.stack.endpoint,
    schema: fuzz.schema,
    known: fuzz.known,
    credentials: fuzz.credentials,
    seed: SEED,
    count: COUNT,
  });
}, 180_000);
afterAll(() => fuzz?.stack.stop());

describe(`fuzz, seed ${SEED}`, () => {
  it("runs every case as every kind of client, and most of them get past the edge", () => {
    expect(report.results).toHaveLength(COUNT);
    const roles = new Set(report.results.map((result) => result.fuzzCase.role));
    expect([...roles].sort()).toEqual([...FUZZ_ROLES].sort());
    // Limits are raised for the fuzz, so refusals are the cases' own doing (hostile text, a
    // wrong operation name, a wrong hash: about a third of the cases): most must still run.
    const ran = report.results.filter((result) => result.response.hasData).length;
    expect(ran / COUNT).toBeGreaterThan(0.6);
    const partnerRan = report.results.filter(
      (result) => result.fuzzCase.rootFields[0]?.startsWith("(persisted)") && result.response.hasData,
    );
    expect(partnerRan.length).toBeGreaterThan(0);
  });

  it("answers every case with well-formed GraphQL, no 5xx and no INTERNAL_SERVER_ERROR", () => {
    const failures = report.failures.map(describeResult);
    expect(failures, `${failures.length} of ${COUNT} cases failed:\n\n${failures.join("\n\n")}`).toEqual([]);
  });
});
