export * from "./apollo.ts";
export * from "./auth.ts";
export * from "./logger.ts";
export * from "./mongo.ts";
export * from "./postgres.ts";
export * from "./redis.ts";
export * from "./subgraph-secret.ts";
export * from "./wait.ts";
