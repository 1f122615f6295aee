import type { FailedEvent } from "@nexus/events";

/** What FailedEvent resolvers receive: a consumer queue's failed job, as @nexus/events reads it. */
export type FailedEventModel = FailedEvent;
