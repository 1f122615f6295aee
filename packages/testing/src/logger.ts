import { currentLogFields, type Logger } from "@nexus/core";

export interface LogRecord {
  level: "debug" | "info" | "warn" | "error";
  message: string;
  fields: Record<string, unknown>;
}

/**
 * A logger that keeps every line in `logs`, for tests that assert what a service reported.
 * Like the real one, it adds the current request's fields (`requestId`).
 */
export function createRecordingLogger(): { logger: Logger; logs: LogRecord[] } {
  const logs: LogRecord[] = [];
  const record =
    (level: LogRecord["level"]) =>
    (message: string, fields: Record<string, unknown> = {}) => {
      logs.push({ level, message, fields: { ...currentLogFields(), ...fields } });
    };
  const logger: Logger = {
    debug: record("debug"),
    info: record("info"),
    warn: record("warn"),
    error: record("error"),
    child: () => logger,
  };
  return { logger, logs };
}
