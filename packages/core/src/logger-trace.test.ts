/** Every log line written inside a span carries the trace's id, so a line leads to its trace. */
import { trace } from "@opentelemetry/api";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { createLogger, withLogFields } from "./logger.ts";

const provider = new NodeTracerProvider();

beforeAll(() => provider.register());
afterAll(() => provider.shutdown());

/** The JSON lines `run` writes to stdout. */
function linesOf(run: () => void): Record<string, unknown>[] {
  const written: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    run();
  } finally {
    spy.mockRestore();
  }
  return written
    .join("")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

it("adds traceId and spanId of the active span to each line", () => {
  const logger = createLogger("trace-test");
  let ids = { traceId: "", spanId: "" };
  const lines = linesOf(() =>
    trace.getTracer("test").startActiveSpan("work", (span) => {
      ids = span.spanContext();
      withLogFields({ requestId: "r-1" }, () => logger.child({ component: "c" }).info("inside", { n: 1 }));
      span.end();
    }),
  );
  expect(ids.traceId).toMatch(/^[0-9a-f]{32}$/);
  expect(lines).toEqual([
    expect.objectContaining({
      msg: "inside",
      requestId: "r-1",
      component: "c",
      n: 1,
      traceId: ids.traceId,
      spanId: ids.spanId,
    }),
  ]);
});

it("adds nothing outside a span", () => {
  const lines = linesOf(() => createLogger("trace-test").info("outside"));
  expect(lines).toHaveLength(1);
  expect(lines[0]).not.toHaveProperty("traceId");
  expect(lines[0]).not.toHaveProperty("spanId");
});
