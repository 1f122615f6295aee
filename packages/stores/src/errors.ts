/**
 * A store the service needs is not reachable. The message says what to start or set,
 * because the first person to see it is usually running Nexus for the first time.
 */
export class StoreUnavailableError extends Error {
  constructor(store: string, target: string, hint: string, options?: { cause?: unknown }) {
    super(`${store} is not reachable at ${target}. ${hint}`, options);
    this.name = "StoreUnavailableError";
  }
}

/** Hides the password in a connection URL before it is printed. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}
