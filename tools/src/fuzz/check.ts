/**
 * What every answer of the gateway must be, whatever it was sent: GraphQL over HTTP with a
 * JSON body holding `data` and/or `errors`, every error with a message, never a 5xx, never an
 * unexpected error (INTERNAL_SERVER_ERROR) and never a stack trace. A refusal (4xx with
 * errors) is a well-formed answer.
 */
export interface CheckedResponse {
  status: number;
  /** Every `extensions.code` of the errors, in order, `(none)` for an error without one. */
  codes: string[];
  /** The first error's message, for grouping failures. */
  message: string | null;
  /** Whether the body held `data` (null included): the operation ran, at least in part. */
  hasData: boolean;
  /** Why the answer is not acceptable; empty when it is. */
  problems: string[];
}

const JSON_TYPES = ["application/json", "application/graphql-response+json"];

export function checkResponse(status: number, contentType: string | null, text: string): CheckedResponse {
  const problems: string[] = [];
  const checked: CheckedResponse = { status, codes: [], message: null, hasData: false, problems };
  if (status >= 500) problems.push(`HTTP ${status}`);
  if (!JSON_TYPES.some((type) => contentType?.toLowerCase().startsWith(type)))
    problems.push(`content-type ${contentType ?? "(none)"}, not JSON`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    problems.push("body is not JSON");
    return checked;
  }
  if (!isRecord(body)) {
    problems.push("body is not a JSON object");
    return checked;
  }
  if (!("data" in body) && !("errors" in body)) problems.push("body has neither data nor errors");
  if ("data" in body) {
    checked.hasData = true;
    if (body.data !== null && !isRecord(body.data)) problems.push("data is neither an object nor null");
  }
  if ("errors" in body) {
    const errors = body.errors;
    if (!Array.isArray(errors) || errors.length === 0) {
      problems.push("errors is not a non-empty list");
      return checked;
    }
    for (const error of errors) {
      if (!isRecord(error) || typeof error.message !== "string" || error.message === "") {
        problems.push("an error without a message");
        continue;
      }
      checked.message ??= error.message;
      const extensions = isRecord(error.extensions) ? error.extensions : {};
      const code = typeof extensions.code === "string" ? extensions.code : "(none)";
      checked.codes.push(code);
      if (code === "INTERNAL_SERVER_ERROR") problems.push("INTERNAL_SERVER_ERROR");
      if ("stacktrace" in extensions || "exception" in extensions) problems.push("stack trace in an error");
    }
  }
  return checked;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
