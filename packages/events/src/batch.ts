import { type Kysely, sql, type Transaction } from "kysely";
import type { EventHandlers, ProcessedEventsDatabase } from "./consumer.ts";
import type { EventEnvelope } from "./events.ts";
import { failpoint } from "./failpoint.ts";

/** What became of one event of a batch. */
export type EventOutcome =
  | { status: "applied" }
  /** Its id was in `processed_events` already: applied by an earlier delivery. */
  | { status: "duplicate" }
  /** Its handler threw; its effect and its `processed_events` row were undone, the others kept. */
  | { status: "failed"; error: unknown };

export interface EventBatchOptions {
  /** Runs an event's handler, e.g. inside that event's span; defaults to calling it. */
  around?: (event: EventEnvelope, apply: () => Promise<void>) => Promise<void>;
}

/**
 * Applies several events in ONE transaction, each with the once-only guarantee of
 * `applyEventOnce`: one multi-row INSERT claims their ids in `processed_events` (ON CONFLICT DO
 * NOTHING RETURNING tells which are new), then each new event's handler runs. Events apply in
 * `occurredAt` order (stable, so equal times keep the order given): the order an aggregate's
 * events happened in. Every event must have a handler. Returns an outcome per event id; rejects,
 * with nothing committed, when the transaction itself fails.
 *
 * A handler that throws must not undo the others. The first pass runs the handlers without
 * savepoints, since a savepoint costs a round trip per event and handlers rarely fail; when one
 * does, that transaction is rolled back and the batch runs again with a SAVEPOINT per event, so
 * the failed one undoes its own effect and claim only and the others commit. Handlers are thus
 * run twice in that case, in two transactions of which one rolled back: like a retry.
 */
export async function applyEventBatch<DB extends ProcessedEventsDatabase>(
  db: Kysely<DB>,
  handlers: EventHandlers<DB>,
  events: readonly EventEnvelope[],
  options: EventBatchOptions = {},
): Promise<Map<string, EventOutcome>> {
  const ordered = [...events].sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
  const around = options.around ?? ((_event, apply) => apply());
  try {
    return await db.transaction().execute((trx) => applyInTransaction(trx, handlers, ordered, around, false));
  } catch (error) {
    if (!(error instanceof HandlerFailed) || ordered.length === 1) throw unwrap(error);
    return db.transaction().execute((trx) => applyInTransaction(trx, handlers, ordered, around, true));
  }
}

/** A handler's error, thrown out of a first pass without savepoints to roll it back. */
class HandlerFailed extends Error {
  readonly error: unknown;
  constructor(error: unknown) {
    super("an event handler failed");
    this.error = error;
  }
}

const unwrap = (error: unknown) => (error instanceof HandlerFailed ? error.error : error);

async function applyInTransaction<DB extends ProcessedEventsDatabase>(
  trx: Transaction<DB>,
  handlers: EventHandlers<DB>,
  ordered: readonly EventEnvelope[],
  around: NonNullable<EventBatchOptions["around"]>,
  isolate: boolean,
): Promise<Map<string, EventOutcome>> {
  const fresh = await claimEvents(trx, ordered);
  const outcomes = new Map<string, EventOutcome>();
  let savepoint = false;
  for (const event of ordered) {
    if (outcomes.has(event.id)) continue;
    if (!fresh.has(event.id)) {
      outcomes.set(event.id, { status: "duplicate" });
      continue;
    }
    if (isolate) {
      // Releasing the previous savepoint and setting the next is one round trip.
      await sql.raw(savepoint ? "RELEASE SAVEPOINT event; SAVEPOINT event" : "SAVEPOINT event").execute(trx);
      savepoint = true;
    }
    try {
      await around(event, () => handlerOf(handlers, event)(trx, event));
      outcomes.set(event.id, { status: "applied" });
    } catch (error) {
      if (!isolate) throw new HandlerFailed(error);
      await undoEvent(trx, event.id);
      outcomes.set(event.id, { status: "failed", error });
    }
  }
  failpoint("consumer.before-commit");
  return outcomes;
}

/** Records the events' ids in one statement; returns those not recorded before. */
async function claimEvents<DB extends ProcessedEventsDatabase>(
  trx: Transaction<DB>,
  events: readonly EventEnvelope[],
): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  // The shared table is addressed through its own narrow view of the database.
  const rows = await (trx as unknown as Transaction<ProcessedEventsDatabase>)
    .insertInto("processed_events")
    .values(events.map((event) => ({ event_id: event.id, event_type: event.type })))
    .onConflict((oc) => oc.column("event_id").doNothing())
    .returning("event_id")
    .execute();
  return new Set(rows.map((row) => row.event_id));
}

/** Rolls back a failed handler's effect and drops its claim, so a retry applies it afresh. */
async function undoEvent<DB extends ProcessedEventsDatabase>(
  trx: Transaction<DB>,
  eventId: string,
): Promise<void> {
  await sql.raw("ROLLBACK TO SAVEPOINT event").execute(trx);
  await (trx as unknown as Transaction<ProcessedEventsDatabase>)
    .deleteFrom("processed_events")
    .where("event_id", "=", eventId)
    .execute();
}

function handlerOf<DB>(
  handlers: EventHandlers<DB>,
  event: EventEnvelope,
): (trx: Transaction<DB>, event: EventEnvelope) => Promise<void> {
  const handler = handlers[event.type] as
    | ((trx: Transaction<DB>, event: EventEnvelope) => Promise<void>)
    | undefined;
  if (!handler) throw new Error(`no handler for ${event.type}`);
  return handler;
}
