import type { IncomingMessage, ServerResponse } from "node:http";
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";

type Env = Readonly<Record<string, string | undefined>>;

const tracer = trace.getTracer("nexus");

/**
 * OpenTelemetry tracing, on only when an OTLP endpoint is configured
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, the standard
 * variables; the exporter itself reads `OTEL_EXPORTER_OTLP_HEADERS` and the like). Spans go
 * over OTLP/HTTP in batches. The SDK is only loaded when on, so a service without an endpoint
 * pays nothing but the no-op API calls. Returns what flushes and stops it.
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
  return () => provider.shutdown();
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
