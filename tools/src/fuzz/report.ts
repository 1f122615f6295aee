/**
 * The summary of a fuzz run: what ran (by role and root field), what came back (HTTP statuses,
 * error codes) and every failure, grouped into classes with one reproduction each.
 */
import { getOperationAST, Kind, parse } from "graphql";
import type { FuzzReport, FuzzResult } from "./run.ts";

export interface FailureClass {
  key: string;
  /** Where it happened: the root field the failing error belongs to, when the body says. */
  rootField: string;
  results: FuzzResult[];
}

/** Failures grouped by root field, problem, status, codes and message (ids and numbers blurred). */
export function failureClasses(report: FuzzReport): FailureClass[] {
  const classes = new Map<string, FailureClass>();
  for (const result of report.failures) {
    const rootField = failingRootField(result);
    const { status, codes, problems, message } = result.response;
    const key = [
      rootField,
      [...new Set(problems)].join(", "),
      `HTTP ${status}`,
      [...new Set(codes)].join(",") || "no code",
      blur(message ?? result.body ?? ""),
    ].join(" | ");
    const entry = classes.get(key) ?? { key, rootField, results: [] };
    entry.results.push(result);
    classes.set(key, entry);
  }
  return [...classes.values()].sort((a, b) => b.results.length - a.results.length);
}

/**
 * Where a case failed: the root field of the failing error (through its alias) when the error
 * has a path, else the request as a whole, named by how it was sent ("operationName wrong"),
 * since an error without a path belongs to no field.
 */
function failingRootField({ fuzzCase, body }: FuzzResult): string {
  const request = `request${fuzzCase.envelope.length > 0 ? ` (${fuzzCase.envelope.join(", ")})` : ""}`;
  if (!body || !fuzzCase.document) return request;
  try {
    const errors = (JSON.parse(body) as { errors?: { path?: unknown[]; extensions?: { code?: string } }[] })
      .errors;
    const failing =
      errors?.find((error) => error.extensions?.code === "INTERNAL_SERVER_ERROR") ?? errors?.[0];
    const key = failing?.path?.[0];
    if (typeof key !== "string") return request;
    const operation = getOperationAST(parse(fuzzCase.document));
    for (const selection of operation?.selectionSet.selections ?? []) {
      if (selection.kind === Kind.FIELD && (selection.alias ?? selection.name).value === key)
        return selection.name.value;
    }
    return key;
  } catch {
    return request;
  }
}

const blur = (message: string): string =>
  message
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, "<uuid>")
    .replace(/\b[0-9a-f]{24}\b/gi, "<objectid>")
    .replace(/"[^"]*"/g, '"…"')
    .replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/gi, "<n>")
    .slice(0, 200);

/** Long strings shortened for reading; `pnpm fuzz --seed --case` replays the exact request. */
export function shorten(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    typeof item === "string" && item.length > 120 ? `${item.slice(0, 60)}… (${item.length} chars)` : item,
  );
}

const shortenDocument = (document: string): string =>
  document.replace(
    /"(?:[^"\\]|\\.){120,}"/g,
    (literal) => `${literal.slice(0, 60)}…" (${literal.length} chars)`,
  );

const countBy = (items: Iterable<string>): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
};

const table = (counts: Map<string, number>, indent = "  "): string =>
  [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([name, count]) => `${indent}${String(count).padStart(6)}  ${name}`)
    .join("\n");

/** The reproduction of one case: the command, the request and the answer. */
export function describeResult({ fuzzCase, response, body }: FuzzResult): string {
  return [
    `replay: pnpm fuzz --seed ${fuzzCase.seed} --case ${fuzzCase.index}`,
    `role: ${fuzzCase.role}; sent as: ${[fuzzCase.request.method, ...fuzzCase.envelope.filter((item) => item !== "GET")].join(", ")}`,
    `values: ${fuzzCase.values.join("; ") || "(none)"}`,
    `operation:\n${shortenDocument(fuzzCase.document ?? "(none)")}`,
    `variables: ${shorten(fuzzCase.variables)}`,
    `answer: HTTP ${response.status}: ${(body ?? "").slice(0, 600)}`,
    `problems: ${[...new Set(response.problems)].join(", ")}`,
  ].join("\n");
}

export function formatReport(report: FuzzReport, elapsedMs: number): string {
  const { results } = report;
  const lines: string[] = [];
  lines.push(`Fuzz: seed ${report.seed}, ${results.length} operations in ${(elapsedMs / 1000).toFixed(1)} s`);
  lines.push("", "By role:", table(countBy(results.map((result) => result.fuzzCase.role))));
  lines.push(
    "",
    "By root field (each field of an operation counts once):",
    table(countBy(results.flatMap((result) => [...new Set(result.fuzzCase.rootFields)]))),
  );
  lines.push("", "HTTP status:", table(countBy(results.map((result) => String(result.response.status)))));
  const ran = results.filter((result) => result.response.hasData).length;
  lines.push(`  ran (data in the answer): ${ran}; refused before running: ${results.length - ran}`);
  lines.push("", "Error codes:", table(countBy(results.flatMap((result) => result.response.codes))));
  const classes = failureClasses(report);
  lines.push("", `Failures: ${report.failures.length} in ${classes.length} classes`);
  classes.forEach((failureClass, position) => {
    const roles = [...new Set(failureClass.results.map((result) => result.fuzzCase.role))].join(", ");
    const first = failureClass.results[0] as FuzzResult;
    lines.push(
      "",
      `[${position + 1}] ${failureClass.key}`,
      `    ${failureClass.results.length} cases (${roles}); cases ${failureClass.results
        .slice(0, 10)
        .map((result) => result.fuzzCase.index)
        .join(", ")}${failureClass.results.length > 10 ? ", …" : ""}`,
      describeResult(first).replace(/^/gm, "    "),
    );
  });
  return lines.join("\n");
}
