import {
  type Connection,
  cursorPart,
  encodeCursor,
  type Logger,
  pageSize,
  readCursor,
  toConnection,
  userError,
} from "@nexus/core";
import type { Consumer, FailedEvents } from "@nexus/events";
import type { UserError } from "../user-error.ts";
import type { FailedEventModel } from "./failed.model.ts";

/** A cursor is the index of an event in its queue's failed set; no set holds 2^31 of them. */
const AFTER = [cursorPart.integer(0, 2 ** 31 - 2)] as const;

/** `failedEvents`: a page of one consumer queue's failed set, newest failure first. */
export async function listFailedEvents(
  deps: { failedEvents: FailedEvents },
  consumer: Consumer,
  args: { first?: number | null; after?: string | null },
): Promise<Connection<FailedEventModel>> {
  const limit = pageSize(args.first);
  const position = readCursor(args.after, AFTER);
  const offset = position === null ? 0 : position[0] + 1;
  // One extra tells whether a next page exists.
  const page = await deps.failedEvents.list(consumer, { offset, limit: limit + 1 });
  const indexOf = new Map(page.events.map((event, i) => [event.eventId, offset + i]));
  return toConnection(
    page.events,
    limit,
    page.totalCount,
    (event) => encodeCursor([indexOf.get(event.eventId) ?? offset]),
    offset > 0,
  );
}

export type ReplayResult = { eventId: string; userErrors: [] } | { eventId: null; userErrors: UserError[] };

/** `replayEvent`: puts a failed event back in its queue; logged with who asked. */
export async function replayFailedEvent(
  deps: { failedEvents: FailedEvents; logger: Logger },
  by: string | undefined,
  input: { consumer: Consumer; eventId: string },
): Promise<ReplayResult> {
  const eventId = input.eventId.trim();
  const name = input.consumer.toUpperCase();
  const outcome = await deps.failedEvents.replay(input.consumer, eventId);
  if (outcome === "REPLAYED") {
    deps.logger.info("failed event replayed", { eventId, consumer: name, by });
    return { eventId, userErrors: [] };
  }
  const error =
    outcome === "NOT_FOUND"
      ? userError("EVENT_NOT_FOUND", `No event ${eventId} in the ${name} queue.`, ["input", "eventId"])
      : userError(
          "EVENT_NOT_FAILED",
          `Event ${eventId} has not failed; only failed events can be replayed.`,
          ["input", "eventId"],
        );
  return { eventId: null, userErrors: [error] };
}
