import { randomBytes } from "node:crypto";

export const TEST_REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** A BullMQ/Redis key prefix unique to one test file, so parallel files never share queues. */
export const testRedisPrefix = (label: string): string =>
  `nexus-test-${label}-${randomBytes(4).toString("hex")}`;
