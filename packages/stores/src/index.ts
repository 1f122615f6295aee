export * from "./errors.ts";
export * from "./migrate-command.ts";
export * from "./mongo.ts";
export * from "./postgres.ts";
export * from "./rate-limit.ts";
export * from "./redis.ts";
export * from "./subgraph-stores.ts";
