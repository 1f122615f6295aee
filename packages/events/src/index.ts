export * from "./consumer.ts";
export * from "./events.ts";
export * from "./outbox.ts";
