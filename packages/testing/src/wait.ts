/**
 * Polls `probe` until it returns something other than undefined or false, for effects that
 * settle asynchronously (an event consumed, a circuit closed), and returns that value. A probe
 * may be a plain condition (`() => received.length >= 200`). Fails naming `what` after
 * `timeoutMs`. The whole repository polls with this one function.
 */
export async function until<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 20_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
