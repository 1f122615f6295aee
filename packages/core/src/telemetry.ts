import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";

type Env = Readonly<Record<string, string | undefined>>;

const tracer = trace.getTracer("nexus");

/**
 * OpenTelemetry tracing, on only when an OTLP endpoint is configured
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, the standard
 * variables; the exporter itself reads `OTEL_EXPORTER_OTLP_HEADERS` and the like). Spans go
 * over OTLP/HTTP in batches. The SDK is only loaded when on, so a service without an endpoint
 * pays nothing but the no-op API calls. When on, the PostgreSQL (pg), Redis (ioredis) and MongoDB
 * drivers make a CLIENT span for each query or command run inside a span (`instrumentDrivers`).
 * Returns what flushes and stops it.
 */
export async function startTelemetry(service: string, env: Env = process.env): Promise<() => Promise<void>> {
  const url =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (env.OTEL_EXPORTER_OTLP_ENDPOINT && `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, "")}/v1/traces`);
  if (!url || env.OTEL_SDK_DISABLED === "true") return async () => {};
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] =
    await Promise.all([
      import("@opentelemetry/sdk-trace-node"),
      import("@opentelemetry/exporter-trace-otlp-http"),
      import("@opentelemetry/resources"),
    ]);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": env.OTEL_SERVICE_NAME ?? `nexus-${service}` }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  // Registers the AsyncLocalStorage context manager and W3C trace-context propagation.
  provider.register();
  const uninstrument = await instrumentDrivers(provider);
  return async () => {
    uninstrument();
    await provider.shutdown();
  };
}

/** Redis commands whose first argument is a script or function, not a key. */
const SCRIPT_COMMAND = /^(eval|evalsha|eval_ro|evalsha_ro|fcall|fcall_ro)$/i;

/**
 * What a Redis span shows of its command: the name and the key, never the values. The
 * instrumentation's default shows every argument of a script call, and BullMQ adds jobs with
 * scripts whose arguments hold the whole event (emails, sealed tokens); carts are written by
 * scripts too. Keys hold no personal data in clear (users hashes emails and tokens into them).
 */
export function redisStatement(command: string, args: readonly unknown[]): string {
  const key = SCRIPT_COMMAND.test(command) ? undefined : args[0];
  const shown = typeof key === "string" ? [command, key] : [command];
  const hidden = args.length - (shown.length - 1);
  return hidden > 0 ? `${shown.join(" ")} [${hidden} other arguments]` : shown.join(" ");
}

/** The driver packages the instrumentations below patch, as they appear in a file's path. */
const DRIVER_FILE = /[\\/]node_modules[\\/](pg|pg-pool|ioredis|mongodb)[\\/]/;

/**
 * OpenTelemetry's own instrumentations of pg, ioredis and the MongoDB driver. They hook
 * `require`, and a service is an ES module whose imports (the drivers among them, through
 * `@nexus/stores`) are all loaded before `startTelemetry` runs. The drivers are CommonJS, so
 * even when an ES module imports them they sit in `require.cache`: requiring each of their
 * loaded files again once the hooks are in lets the instrumentations patch them in place (they
 * wrap prototype methods, so clients made before are patched too), with the instrumentations'
 * own version checks. A driver loaded later is patched by the hook as usual.
 *
 * Spans only for work inside a span (`requireParentSpan`): a query made by a timer, a sweeper
 * or BullMQ's own polling starts no trace of its own.
 */
async function instrumentDrivers(provider: TracerProvider): Promise<() => void> {
  const [
    { registerInstrumentations },
    { PgInstrumentation },
    { IORedisInstrumentation },
    { MongoDBInstrumentation },
  ] = await Promise.all([
    import("@opentelemetry/instrumentation"),
    import("@opentelemetry/instrumentation-pg"),
    import("@opentelemetry/instrumentation-ioredis"),
    import("@opentelemetry/instrumentation-mongodb"),
  ]);
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: redisStatement }),
      new MongoDBInstrumentation({ requireParentSpan: true }),
    ],
  });
  const require = createRequire(import.meta.url);
  for (const filename of Object.keys(require.cache)) {
    if (DRIVER_FILE.test(filename)) require(filename);
  }
  return unregister;
}

/**
 * Runs one HTTP request inside a server span that continues the caller's trace (`traceparent`),
 * so a subgraph's spans join the gateway's. @apollo/gateway's own spans (plan, fetch) nest
 * under the gateway's request span.
 */
export function traceRequest(
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  run: () => void,
): void {
  const parent = propagation.extract(ROOT_CONTEXT, req.headers);
  const path = req.url?.split("?")[0] ?? "/";
  const span = tracer.startSpan(
    `${req.method} ${path}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        "http.request.method": req.method ?? "",
        "url.path": path,
        "nexus.request_id": requestId,
      },
    },
    parent,
  );
  res.once("close", () => {
    span.setAttribute("http.response.status_code", res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  context.with(trace.setSpan(parent, span), run);
}

/** The current trace context as headers (`traceparent`, `tracestate`) for an outgoing request. */
export function traceHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(context.active(), headers);
  return headers;
}

/**
 * W3C trace context (`traceparent`, and `tracestate` when there is one) as a plain object that
 * can be stored or sent with a message, so whoever handles it later continues this trace.
 */
export interface TraceCarrier {
  traceparent: string;
  tracestate?: string;
}

/** The active span's context as a carrier, or undefined when nothing is being traced (tracing off). */
export function traceCarrier(from: Context = context.active()): TraceCarrier | undefined {
  if (!trace.getSpan(from)?.spanContext()) return undefined;
  const headers: Record<string, string> = {};
  propagation.inject(from, headers);
  if (!headers.traceparent) return undefined;
  return headers.tracestate
    ? { traceparent: headers.traceparent, tracestate: headers.tracestate }
    : { traceparent: headers.traceparent };
}

/** The context a carrier from `traceCarrier` describes, to start spans under; the root context without one. */
export function contextFromCarrier(carrier: TraceCarrier | undefined): Context {
  return carrier ? propagation.extract(ROOT_CONTEXT, carrier) : ROOT_CONTEXT;
}
