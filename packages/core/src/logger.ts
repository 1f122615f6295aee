import { AsyncLocalStorage } from "node:async_hooks";
import cluster from "node:cluster";
import { context, isSpanContextValid, trace } from "@opentelemetry/api";
import pino from "pino";

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
type Fields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
  child(fields: Fields): Logger;
}

/**
 * Fields every log line written while handling one request carries (its `requestId`), without
 * passing a logger down every call: `startHttpServer` runs each request inside `withLogFields`.
 */
const requestFields = new AsyncLocalStorage<Fields>();

/** Runs `fn` with `fields` added to every log line it writes, however deep. */
export function withLogFields<T>(fields: Fields, fn: () => T): T {
  return requestFields.run({ ...requestFields.getStore(), ...fields }, fn);
}

/** The fields `withLogFields` has set for the code running now (empty outside a request). */
export function currentLogFields(): Fields {
  return requestFields.getStore() ?? {};
}

/**
 * The field names a child logger has bound. pino writes bindings before the line's other fields,
 * so a request field of the same name would win when the line is parsed; a binding wins instead.
 */
const boundKeys = new WeakMap<object, ReadonlySet<string>>();

/**
 * One JSON object per line on stdout, what log shippers and `jq` read without a parser:
 * `level` (its name), `time` (ISO-8601), `service`, the request's fields, `traceId` and `spanId`
 * when a span is active, the line's fields, `msg`.
 * pino writes to `process.stdout` itself rather than its own file descriptor writer, so a line
 * is written before the call returns, in order with everything else on stdout.
 */
export function createLogger(service: string, level: LogLevel = "info"): Logger {
  const log = pino(
    {
      level,
      // A cluster worker (GATEWAY_WORKERS) adds its pid, so its lines can be told from its siblings'.
      base: cluster.isWorker ? { service, pid: process.pid } : { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => clean(fields),
      },
      // `clean` has already turned errors into plain objects, under any key.
      serializers: { err: (value: unknown) => value },
      mixin: (_fields, _level, logger) => {
        const fields = currentLogFields();
        const bound = boundKeys.get(logger);
        // A copy: pino merges the line's own fields into what this returns.
        const line = Object.fromEntries(Object.entries(fields).filter(([key]) => !bound?.has(key)));
        // The active span's ids, so a log line leads to its trace. With tracing off there is
        // never an active span, and this is one no-op lookup.
        const span = trace.getSpan(context.active())?.spanContext();
        if (span && isSpanContextValid(span)) {
          line.traceId = span.traceId;
          line.spanId = span.spanId;
        }
        return line;
      },
    },
    process.stdout,
  );
  return wrap(log, new Set());
}

function wrap(log: pino.Logger, bound: ReadonlySet<string>): Logger {
  return {
    debug: (message, fields) => log.debug(fields ?? {}, message),
    info: (message, fields) => log.info(fields ?? {}, message),
    warn: (message, fields) => log.warn(fields ?? {}, message),
    error: (message, fields) => log.error(fields ?? {}, message),
    child: (fields) => {
      // pino formats only the root's bindings, so a child's are cleaned here.
      const child = log.child(clean(fields));
      const keys = new Set([...bound, ...Object.keys(fields)]);
      boundKeys.set(child, keys);
      return wrap(child, keys);
    },
  };
}

/**
 * Fields whose values are credentials, wherever they sit in a line: a config object, a header
 * map. Their values never reach a log, only that they were there. pino's `redact` takes fixed
 * paths; this rule is about names at any depth, so it runs over the whole line instead.
 */
const CREDENTIAL_KEY = /secret|signature|password|authorization|api-?key/i;

/**
 * The line's fields as JSON.stringify would see them, credentials redacted and errors as
 * `{ name, message, stack }` at any depth. A loop is written as "[Circular]".
 */
function clean(fields: Fields): Fields {
  const seen = new Set<object>();
  const visit = (key: string, input: unknown): unknown => {
    let value = input;
    if (
      typeof value === "object" &&
      value !== null &&
      typeof (value as { toJSON?: unknown }).toJSON === "function"
    ) {
      value = (value as { toJSON(key: string): unknown }).toJSON(key);
    }
    if (CREDENTIAL_KEY.test(key) && value !== undefined && value !== null) return "[redacted]";
    if (value instanceof Error) value = { name: value.name, message: value.message, stack: value.stack };
    if (typeof value !== "object" || value === null) return value;
    if (seen.has(value)) return "[Circular]";
    seen.add(value);
    const copy = Array.isArray(value)
      ? value.map((item, index) => visit(String(index), item))
      : Object.fromEntries(Object.entries(value).map(([inner, item]) => [inner, visit(inner, item)]));
    seen.delete(value);
    return copy;
  };
  return Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, visit(key, value)]));
}
