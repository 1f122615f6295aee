import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger } from "@nexus/core";
import { announceOrderUpdates, type EventEnvelope, type OrderUpdateNotice } from "@nexus/events";
import { connectRedis } from "@nexus/stores";
import { TEST_REDIS_URL, testRedisPrefix } from "@nexus/testing";
import { parse, print } from "graphql";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdmission } from "../edge/admission.ts";
import { createGatewayMetrics } from "../observability/metrics.ts";
import { startPrivateRedis } from "../test-redis.ts";
import { createNoticeHub, listenForOrderUpdates } from "./notices.ts";
import { rewriteSubscription } from "./rewrite.ts";
import { tokenExpiry } from "./subscriptions.ts";

const ORDER_ID = "0b5e1c9a-7a53-4a51-9b6b-0c7f4b0e2a11";
const USER_ID = "00000000-0000-4000-8000-000000000001";

const rewrite = (
  source: string,
  variables: Record<string, unknown> = {},
  operationName: string | null = null,
) => {
  const result = rewriteSubscription(parse(source), operationName, variables);
  return result && { ...result, source: print(result.document) };
};
const normalized = (source: string) => print(parse(source));

describe("rewriteSubscription", () => {
  it("runs orderUpdated as the order query, under the subscription's response key, with the status added", () => {
    const result = rewrite(
      "subscription Follow($id: ID!) { orderUpdated(id: $id) { id lines { product { name } } } }",
      { id: ORDER_ID },
    );
    expect(result).toMatchObject({ field: "orderUpdated", responseKey: "orderUpdated", orderId: ORDER_ID });
    expect(result?.source).toBe(
      normalized(`query Follow($id: ID!) {
        orderUpdated: order(id: $id) { id lines { product { name } } _nexusOrderStatus: status }
      }`),
    );
  });

  it("keeps an alias and reads a literal id", () => {
    const result = rewrite(`subscription { mine: orderUpdated(id: "${ORDER_ID}") { status } }`);
    expect(result).toMatchObject({ responseKey: "mine", orderId: ORDER_ID });
    expect(result?.source).toBe(
      normalized(`{ mine: order(id: "${ORDER_ID}") { status _nexusOrderStatus: status } }`),
    );
  });

  it("runs myOrderUpdates as the order of a variable the gateway sets", () => {
    const result = rewrite("subscription Mine { myOrderUpdates { id } }");
    expect(result).toMatchObject({ field: "myOrderUpdates", responseKey: "myOrderUpdates", orderId: null });
    expect(result?.source).toBe(
      normalized(
        "query Mine($_nexusOrderId: ID!) { myOrderUpdates: order(id: $_nexusOrderId) { id _nexusOrderStatus: status } }",
      ),
    );
  });

  it("turns fragments on Subscription into fragments on Query and keeps the others", () => {
    const result = rewrite(
      `subscription S($id: ID!) { ...Root }
       fragment Root on Subscription { ... on Subscription { orderUpdated(id: $id) { ...Fields } } }
       fragment Fields on Order { id status }
       query Other { __typename }`,
      { id: ORDER_ID },
      "S",
    );
    expect(result?.source).toBe(
      normalized(`query S($id: ID!) { ...Root }
        fragment Root on Query { ... on Query { orderUpdated: order(id: $id) { ...Fields _nexusOrderStatus: status } } }
        fragment Fields on Order { id status }`),
    );
  });

  it("has nothing to run when access control removed the field", () => {
    expect(rewrite("subscription { _nexusWithheld: __typename }")).toBeNull();
  });

  it("refuses anything but a subscription", () => {
    expect(() => rewrite("{ __typename }")).toThrow("takes a subscription operation");
  });
});

const notice = (overrides: Partial<OrderUpdateNotice> = {}): OrderUpdateNotice => ({
  orderId: ORDER_ID,
  userId: USER_ID,
  status: "CONFIRMED",
  at: new Date().toISOString(),
  eventId: crypto.randomUUID(),
  ...overrides,
});

describe("the notice hub", () => {
  it("fans a notice out by order and by customer, once per event id, case-insensitively", () => {
    const hub = createNoticeHub();
    const byOrder: string[] = [];
    const byUser: string[] = [];
    const other: string[] = [];
    const stopOrder = hub.onOrder(ORDER_ID.toUpperCase(), (n) => byOrder.push(n.status));
    hub.onUser(USER_ID, (n) => byUser.push(n.status));
    hub.onOrder("another", (n) => other.push(n.status));

    const confirmed = notice();
    hub.dispatch(confirmed);
    hub.dispatch(confirmed); // announced twice by the relay
    hub.dispatch(notice({ status: "SHIPPED", userId: null }));
    stopOrder();
    hub.dispatch(notice({ status: "DELIVERED" }));

    expect(byOrder).toEqual(["CONFIRMED", "SHIPPED"]);
    expect(byUser).toEqual(["CONFIRMED", "DELIVERED"]);
    expect(other).toEqual([]);
  });

  it("tells every subscriber to read again on resync", () => {
    const hub = createNoticeHub();
    let resyncs = 0;
    const stop = hub.onResync(() => {
      resyncs += 1;
    });
    hub.resync();
    stop();
    hub.resync();
    expect(resyncs).toBe(1);
  });
});

describe("tokenExpiry", () => {
  const token = (claims: object) => `Bearer h.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.s`;

  it("reads the exp claim of a bearer token, in milliseconds", () => {
    expect(tokenExpiry(token({ exp: 1_800_000_000 }))).toBe(1_800_000_000_000);
  });

  it("is null without a usable token", () => {
    expect(tokenExpiry(undefined)).toBeNull();
    expect(tokenExpiry("Basic abc")).toBeNull();
    expect(tokenExpiry(token({ sub: "x" }))).toBeNull();
    expect(tokenExpiry("Bearer not-a-jwt")).toBeNull();
  });
});

describe("listenForOrderUpdates", () => {
  let redis: Redis;
  const prefix = testRedisPrefix("gateway-notices");

  beforeAll(async () => {
    redis = await connectRedis(TEST_REDIS_URL);
  });
  afterAll(() => redis.disconnect());

  it("dispatches what orders announces on its channel, and ignores what is malformed", async () => {
    const hub = createNoticeHub();
    const received: string[] = [];
    hub.onOrder(ORDER_ID, (n) => received.push(n.status));
    const listener = await listenForOrderUpdates({
      redis,
      eventsPrefix: prefix,
      hub,
      logger: createLogger("notices-test", "silent"),
    });
    try {
      await redis.publish(`${prefix}:orders:updates`, "not a notice");
      const event: EventEnvelope<"OrderStatusChanged"> = {
        id: crypto.randomUUID(),
        type: "OrderStatusChanged",
        aggregateId: ORDER_ID,
        occurredAt: new Date().toISOString(),
        payload: {
          orderId: ORDER_ID,
          customerId: USER_ID,
          guestEmail: null,
          status: "SHIPPED",
          previousStatus: "CONFIRMED",
          reason: null,
          trackingNumber: null,
          linesReturnedToCart: false,
          order: {} as EventEnvelope<"OrderStatusChanged">["payload"]["order"],
        },
      };
      await announceOrderUpdates(redis, prefix)([event]);
      await expect.poll(() => received).toEqual(["SHIPPED"]);
    } finally {
      await listener.stop();
    }
  });

  it("asks subscribers to read again after it lost the channel, and hears notices again", async () => {
    // The connection is killed on a Redis of this test's own, never on the shared one.
    const own = await startPrivateRedis();
    const ownRedis = await connectRedis(own.url);
    try {
      const hub = createNoticeHub();
      let resyncs = 0;
      hub.onResync(() => {
        resyncs += 1;
      });
      const received: string[] = [];
      hub.onOrder(ORDER_ID, (n) => received.push(n.status));
      const listener = await listenForOrderUpdates({
        redis: ownRedis,
        eventsPrefix: prefix,
        hub,
        logger: createLogger("notices-test", "silent"),
      });
      try {
        expect(resyncs).toBe(0);
        await own.admin.call("CLIENT", "KILL", "TYPE", "pubsub");
        await expect.poll(() => resyncs, { timeout: 10_000 }).toBe(1);
        await expect
          .poll(
            async () => {
              await own.admin.publish(
                `${prefix}:orders:updates`,
                JSON.stringify(notice({ status: "DELIVERED" })),
              );
              return received.length > 0;
            },
            { timeout: 10_000 },
          )
          .toBe(true);
        expect(received[0]).toBe("DELIVERED");
      } finally {
        await listener.stop();
      }
    } finally {
      ownRedis.disconnect();
      await own.stop();
    }
  });
});

describe("load shedding and subscription streams", () => {
  it("an open stream holds no in-flight slot, while a request in progress does", async () => {
    const admission = createAdmission({
      maxInFlight: 1,
      maxEventLoopDelayMs: 0,
      metrics: createGatewayMetrics(),
    });
    const server = createServer((req, res) => {
      if (admission.intercept(req, res)) return;
      // Streams and held requests stay open until the test ends; others answer at once.
      if (req.url === "/graphql/stream" || req.headers["x-hold"]) {
        res.writeHead(200);
        res.write(":\n\n");
        return;
      }
      res.end("{}");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const open = (path: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; close: () => void }>((resolve, reject) => {
        const req = request({ port, host: "127.0.0.1", path, method: "POST", headers }, (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, close: () => req.destroy() });
        });
        req.once("error", reject);
        req.end();
      });
    try {
      const streams = [await open("/graphql/stream"), await open("/graphql/stream")];
      expect(streams.map((s) => s.status)).toEqual([200, 200]);
      const held = await open("/graphql", { "x-hold": "1" });
      expect(held.status).toBe(200);
      // The one slot is the held request's: the next request is shed, streams or not.
      expect((await open("/graphql")).status).toBe(503);
      expect((await open("/graphql/stream")).status).toBe(503);
      for (const opened of [...streams, held]) opened.close();
    } finally {
      admission.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
