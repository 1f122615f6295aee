import {
  badUserInput,
  decodeCursor,
  encodeCursor,
  forbidden,
  hasScope,
  pageSize,
  requireViewer,
  toConnection,
  userError,
} from "@nexus/core";
import type { Consumer } from "@nexus/events";
import type { EventConsumer, Resolvers } from "../__generated__/resolvers-types.ts";
import type { Context } from "../context.ts";

/**
 * The SDL's @requiresScopes, enforced here as well until the shared directive enforcement
 * covers every subgraph: failed events carry customers' order data, and replaying acts on them.
 */
function requireEventsScope(ctx: Context): void {
  const viewer = requireViewer(ctx.viewer);
  if (!hasScope(viewer, "events:manage")) throw forbidden("This needs the events:manage scope.");
}

const toConsumer = (consumer: EventConsumer): Consumer => consumer.toLowerCase() as Consumer;
const toEventConsumer = (consumer: Consumer): EventConsumer => consumer.toUpperCase() as EventConsumer;

export const failedResolvers: Resolvers = {
  Query: {
    failedEvents: async (_parent, { consumer, first, after }, ctx) => {
      requireEventsScope(ctx);
      const limit = pageSize(first);
      const position = decodeCursor(after, 1);
      const previous = position === null ? -1 : position[0];
      if (typeof previous !== "number" || !Number.isInteger(previous) || previous < -1) {
        throw badUserInput("after is not a cursor returned by this field.", "after");
      }
      const offset = previous + 1;
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
      requireEventsScope(ctx);
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
