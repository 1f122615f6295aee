import { cursorPart, encodeCursor, pageSize, readCursor, toConnection, userError } from "@nexus/core";
import type { Consumer } from "@nexus/events";
import type { EventConsumer, Resolvers } from "../__generated__/resolvers-types.ts";

const toConsumer = (consumer: EventConsumer): Consumer => consumer.toLowerCase() as Consumer;
const toEventConsumer = (consumer: Consumer): EventConsumer => consumer.toUpperCase() as EventConsumer;

/** A cursor is the index of an event in its queue's failed set; no set holds 2^31 of them. */
const AFTER = [cursorPart.integer(0, 2 ** 31 - 2)] as const;

export const failedResolvers: Resolvers = {
  Query: {
    failedEvents: async (_parent, { consumer, first, after }, ctx) => {
      const limit = pageSize(first);
      const position = readCursor(after, AFTER);
      const offset = position === null ? 0 : position[0] + 1;
      // One extra tells whether a next page exists.
      const page = await ctx.failedEvents.list(toConsumer(consumer), { offset, limit: limit + 1 });
      const indexOf = new Map(page.events.map((event, i) => [event.eventId, offset + i]));
      return toConnection(
        page.events,
        limit,
        page.totalCount,
        (event) => encodeCursor([indexOf.get(event.eventId) ?? offset]),
        offset > 0,
      );
    },
  },
  Mutation: {
    replayEvent: async (_parent, { input }, ctx) => {
      const eventId = input.eventId.trim();
      const outcome = await ctx.failedEvents.replay(toConsumer(input.consumer), eventId);
      if (outcome === "REPLAYED") {
        ctx.logger.info("failed event replayed", {
          eventId,
          consumer: input.consumer,
          by: ctx.viewer?.userId,
        });
        return { eventId, userErrors: [] };
      }
      const error =
        outcome === "NOT_FOUND"
          ? userError("EVENT_NOT_FOUND", `No event ${eventId} in the ${input.consumer} queue.`, [
              "input",
              "eventId",
            ])
          : userError(
              "EVENT_NOT_FAILED",
              `Event ${eventId} has not failed; only failed events can be replayed.`,
              ["input", "eventId"],
            );
      return { eventId: null, userErrors: [error] };
    },
  },
  FailedEvent: {
    consumer: (event) => toEventConsumer(event.consumer),
    payload: (event) => JSON.stringify(event.event),
  },
};
