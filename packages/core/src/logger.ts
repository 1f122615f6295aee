import { AsyncLocalStorage } from "node:async_hooks";

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

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

/** One JSON object per line on stdout: what log shippers and `jq` read without a parser. */
export function createLogger(service: string, level: LogLevel = "info", base: Fields = {}): Logger {
  const write = (at: Exclude<LogLevel, "silent">, message: string, fields?: Fields) => {
    if (rank[at] < rank[level]) return;
    const line = {
      time: new Date().toISOString(),
      level: at,
      service,
      msg: message,
      ...currentLogFields(),
      ...base,
      ...fields,
    };
    process.stdout.write(`${JSON.stringify(line, errorReplacer)}\n`);
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (fields) => createLogger(service, level, { ...base, ...fields }),
  };
}

/**
 * Fields whose values are credentials, wherever they sit in a line: a config object, a header
 * map. Their values never reach a log, only that they were there.
 */
const CREDENTIAL_KEY = /secret|signature|password|authorization|api-?key/i;

function errorReplacer(key: string, value: unknown): unknown {
  if (key !== "" && CREDENTIAL_KEY.test(key) && value !== undefined && value !== null) return "[redacted]";
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}
