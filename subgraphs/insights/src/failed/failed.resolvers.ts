import type { Consumer } from "@nexus/events";
import type { EventConsumer, Resolvers } from "../__generated__/resolvers-types.ts";
import { listFailedEvents, replayFailedEvent } from "./failed.service.ts";

const toConsumer = (consumer: EventConsumer): Consumer => consumer.toLowerCase() as Consumer;
const toEventConsumer = (consumer: Consumer): EventConsumer => consumer.toUpperCase() as EventConsumer;

export const failedResolvers: Resolvers = {
  Query: {
    failedEvents: (_parent, { consumer, first, after }, ctx) =>
      listFailedEvents({ failedEvents: ctx.failedEvents }, toConsumer(consumer), { first, after }),
  },
  Mutation: {
    replayEvent: (_parent, { input }, ctx) =>
      replayFailedEvent({ failedEvents: ctx.failedEvents, logger: ctx.logger }, ctx.viewer?.userId, {
        consumer: toConsumer(input.consumer),
        eventId: input.eventId,
      }),
  },
  FailedEvent: {
    consumer: (event) => toEventConsumer(event.consumer),
    payload: (event) => JSON.stringify(event.event),
  },
};
