/**
 * Deterministic crash points for tests that kill a process at an exact step (after a commit,
 * before a publish or an acknowledgement) and prove that a restart repairs it.
 *
 * TEST-ONLY. When `NEXUS_FAILPOINT` names the point a process reaches, the process sends
 * itself SIGKILL: no `finally`, no shutdown hook, no flushed socket, exactly like a power cut
 * or the OOM killer. `name@N` fires the N-th time the process gets there instead of the first
 * (a kill in the middle of a stream, not at its start). It is ignored when
 * `NODE_ENV=production`, so a stray variable can never take a production service down.
 */
export type FailpointName =
  /** Outbox relay: rows selected and locked, nothing published to BullMQ yet. */
  | "outbox.before-publish"
  /** Outbox relay: every subscriber queue accepted the jobs; the rows are not marked published. */
  | "outbox.after-publish"
  /** Consumer: a batch's handlers all ran in its transaction, which is not committed yet. */
  | "consumer.before-commit"
  /** Consumer: the batch's transaction committed; BullMQ has not been told any of its jobs completed. */
  | "consumer.after-commit";

const reached = new Map<FailpointName, number>();

export function failpoint(name: FailpointName): void {
  if (process.env.NODE_ENV === "production") return;
  const [point, nth = "1"] = (process.env.NEXUS_FAILPOINT ?? "").split("@");
  if (point !== name) return;
  const times = (reached.get(name) ?? 0) + 1;
  reached.set(name, times);
  if (times === Number(nth)) process.kill(process.pid, "SIGKILL");
}
