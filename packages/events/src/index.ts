export * from "./batch.ts";
export * from "./consumer.ts";
export * from "./events.ts";
export * from "./failed.ts";
export * from "./failpoint.ts";
export * from "./metrics.ts";
export * from "./order-updates.ts";
export * from "./outbox.ts";
