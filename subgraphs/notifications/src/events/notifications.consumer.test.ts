import { randomUUID } from "node:crypto";
import { sealForServices } from "@nexus/core";
import type { EventEnvelope, OrderSnapshot, ShipmentSnapshot } from "@nexus/events";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createTestEnv,
  envelope,
  sealed,
  TEST_STAFF_EMAILS,
  type TestEnv,
  userSnapshot,
} from "../test-env.ts";

let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv("notifications_consumer");
});
afterAll(async () => {
  await env?.close();
});
beforeEach(async () => {
  await env.reset();
});

const ORDER: OrderSnapshot = {
  currencyCode: "EUR",
  total: 4500,
  lines: [
    { productId: "65f0a1b2c3d4e5f6a7b8c9d0", productName: "Kettle", quantity: 1, unitPrice: 2500 },
    { productId: "65f0a1b2c3d4e5f6a7b8c9d1", productName: "Mug", quantity: 2, unitPrice: 1000 },
  ],
  shippingAddress: {
    name: "Ada Lovelace",
    line1: "1 Analytical Way",
    line2: null,
    city: "London",
    region: null,
    postalCode: "N1 1AA",
    countryCode: "GB",
  },
  placedAt: "2026-12-01T10:00:00.000Z",
};

const deliveries = () =>
  env.pg.db
    .selectFrom("deliveries")
    .selectAll()
    .orderBy("message_type")
    .orderBy("channel")
    .orderBy("email")
    .execute();

async function registered(overrides: Parameters<typeof userSnapshot>[0] = {}) {
  const user = userSnapshot(overrides);
  await env.deliver(envelope("UserRegistered", { user }, "2026-01-01T00:00:00Z"));
  return user;
}

function statusChanged(
  customerId: string | null,
  status: EventEnvelope<"OrderStatusChanged">["payload"]["status"],
  extra: Partial<EventEnvelope<"OrderStatusChanged">["payload"]> = {},
) {
  return envelope("OrderStatusChanged", {
    orderId: randomUUID(),
    customerId,
    guestEmail: null,
    status,
    previousStatus: "PENDING",
    reason: null,
    trackingNumber: null,
    linesReturnedToCart: false,
    order: ORDER,
    ...extra,
  });
}

describe("account messages (transactional)", () => {
  it("PasswordResetRequested emails the address in the event a reset link holding the opened token", async () => {
    const user = await registered();
    const event = envelope("PasswordResetRequested", {
      userId: user.id,
      email: "Reset.Me@Example.test",
      name: "Ada",
      sealedToken: sealed("reset-token-123"),
      expiresAt: "2026-12-03T17:00:00.000Z",
      purpose: "reset",
    });
    await env.deliver(event);
    const rows = await deliveries();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      message_type: "PASSWORD_RESET",
      channel: "EMAIL",
      status: "QUEUED",
      user_id: user.id,
      email: "reset.me@example.test",
      event_id: event.id,
      idempotency_key: `${event.id}:user:${user.id}:EMAIL`,
      data: {
        name: "Ada",
        resetUrl: "https://shop.test/reset-password?token=reset-token-123",
        expiresAt: "2026-12-03T17:00:00.000Z",
        purpose: "reset",
      },
    });
  });

  it("an invite for an account nobody told us about yet still goes to the address in the event", async () => {
    const userId = randomUUID();
    await env.deliver(
      envelope("PasswordResetRequested", {
        userId,
        email: "new.staff@example.test",
        name: "Grace",
        sealedToken: sealed("invite-token"),
        expiresAt: "2026-12-03T17:00:00.000Z",
        purpose: "invite",
      }),
    );
    const [row] = await deliveries();
    expect(row).toMatchObject({
      status: "QUEUED",
      email: "new.staff@example.test",
      data: { purpose: "invite" },
    });
  });

  it("a token sealed under another secret fails the event (retried, then in the failed set) and queues nothing", async () => {
    const event = envelope("PasswordResetRequested", {
      userId: randomUUID(),
      email: "x@example.test",
      name: "X",
      sealedToken: sealForServices({ current: "some-other-deployment-secret" }, "token"),
      expiresAt: "2026-12-03T17:00:00.000Z",
      purpose: "reset",
    });
    await expect(env.deliver(event)).rejects.toThrow(/does not open/);
    expect(await deliveries()).toHaveLength(0);
    const processed = await env.pg.db.selectFrom("processed_events").selectAll().execute();
    expect(processed).toHaveLength(0);
  });

  it("EmailVerificationRequested emails a verification link", async () => {
    const user = await registered();
    await env.deliver(
      envelope("EmailVerificationRequested", {
        userId: user.id,
        email: "changed@example.test",
        name: "Ada",
        sealedToken: sealed("verify+/token="),
        expiresAt: "2026-12-04T10:00:00.000Z",
      }),
    );
    const [row] = await deliveries();
    expect(row).toMatchObject({
      message_type: "EMAIL_VERIFICATION",
      channel: "EMAIL",
      email: "changed@example.test",
      data: { name: "Ada", expiresAt: "2026-12-04T10:00:00.000Z" },
    });
    const url = new URL((row?.data as { verifyUrl?: string } | undefined)?.verifyUrl ?? "");
    expect(url.origin + url.pathname).toBe("https://shop.test/verify-email");
    expect(url.searchParams.get("token")).toBe("verify+/token=");
  });

  it("PasswordChanged emails the owner, even with every preference switched off", async () => {
    const user = await registered();
    await env.pg.db
      .insertInto("notification_preferences")
      .values({ user_id: user.id, message_type: "PASSWORD_CHANGED", channel: "EMAIL", enabled: false })
      .execute();
    await env.deliver(
      envelope("PasswordChanged", {
        userId: user.id,
        email: user.email as string,
        name: "Ada",
        via: "reset",
      }),
    );
    const rows = await deliveries();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      message_type: "PASSWORD_CHANGED",
      channel: "EMAIL",
      status: "QUEUED",
      data: { name: "Ada", via: "reset", resetRequestUrl: "https://shop.test/forgot-password" },
    });
  });
});

describe("order messages", () => {
  const PARCEL: ShipmentSnapshot = {
    carrier: "UPS",
    trackingNumber: "1Z999",
    lines: [{ productId: "65f0a1b2c3d4e5f6a7b8c9d1", productName: "Mug", quantity: 1 }],
    complete: false,
  };
  const cases = [
    ["CONFIRMED", "ORDER_CONFIRMED", {}],
    ["REJECTED", "ORDER_REJECTED", { reason: "Payment declined", linesReturnedToCart: true }],
    ["CANCELLED", "ORDER_CANCELLED", { reason: "Changed my mind" }],
    ["SHIPPED", "ORDER_SHIPPED", { trackingNumber: "1Z999" }],
    [
      "PARTIALLY_SHIPPED",
      "ORDER_SHIPPED",
      {
        trackingNumber: "1Z999",
        shipment: PARCEL,
      },
    ],
    ["DELIVERED", "ORDER_DELIVERED", {}],
  ] as const;

  for (const [status, type, extra] of cases) {
    it(`${status} gives the customer ${type} by email and in the inbox`, async () => {
      const user = await registered({ name: "Ada Customer" });
      const event = statusChanged(user.id, status, extra);
      await env.deliver(event);
      const rows = await deliveries();
      expect(rows.map((row) => [row.message_type, row.channel, row.status, row.email])).toEqual([
        [type, "EMAIL", "QUEUED", user.email],
        [type, "IN_APP", "SENT", null],
      ]);
      const orderUrl = `https://shop.test/account/orders/${event.payload.orderId}`;
      const data = rows[0]?.data as Record<string, unknown>;
      expect(data).toMatchObject({ name: "Ada Customer", orderId: event.payload.orderId, order: ORDER });
      expect(rows[1]?.data).toEqual(data);
      if (status === "REJECTED") {
        expect(data).toMatchObject({
          reason: "Payment declined",
          linesReturnedToCart: true,
          cartUrl: "https://shop.test/cart",
        });
      } else expect(data.orderUrl).toBe(orderUrl);
      if (status === "CANCELLED") expect(data.reason).toBe("Changed my mind");
      if (status === "SHIPPED") expect(data.trackingNumber).toBe("1Z999");
      if (status === "PARTIALLY_SHIPPED") {
        // One parcel of several: the message says which units it holds and where to follow it.
        expect(data).toMatchObject({ trackingNumber: "1Z999", shipment: PARCEL });
      }
      if (status === "DELIVERED") {
        expect(data.reviewUrls).toEqual([
          {
            productId: "65f0a1b2c3d4e5f6a7b8c9d0",
            productName: "Kettle",
            url: "https://shop.test/products/65f0a1b2c3d4e5f6a7b8c9d0/review",
          },
          {
            productId: "65f0a1b2c3d4e5f6a7b8c9d1",
            productName: "Mug",
            url: "https://shop.test/products/65f0a1b2c3d4e5f6a7b8c9d1/review",
          },
        ]);
      }
    });
  }

  it("a newly placed order sends nothing", async () => {
    const user = await registered();
    await env.deliver(statusChanged(user.id, "PENDING", { previousStatus: null }));
    expect(await deliveries()).toHaveLength(0);
  });

  it("a guest order writes to the guest's email, by the shipping address's name, with no inbox", async () => {
    await env.deliver(statusChanged(null, "CONFIRMED", { guestEmail: "Guest@Example.test" }));
    const rows = await deliveries();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      channel: "EMAIL",
      status: "QUEUED",
      user_id: null,
      email: "guest@example.test",
      data: { name: "Ada Lovelace" },
    });
  });

  it("a customer notifications never heard of gets the inbox message and a SKIPPED email saying why", async () => {
    const customerId = randomUUID();
    await env.deliver(statusChanged(customerId, "SHIPPED"));
    const rows = await deliveries();
    expect(rows.map((row) => [row.channel, row.status, row.last_error])).toEqual([
      ["EMAIL", "SKIPPED", "no contact known for this account"],
      ["IN_APP", "SENT", null],
    ]);
  });

  it("an account without an email address (imported) gets a SKIPPED email", async () => {
    const user = await registered({ email: null });
    await env.deliver(statusChanged(user.id, "CONFIRMED"));
    const [email] = await deliveries();
    expect(email).toMatchObject({
      channel: "EMAIL",
      status: "SKIPPED",
      last_error: "the account has no email address",
    });
  });

  it("OrderRefunded tells the customer, and a historical refund tells no one", async () => {
    const user = await registered();
    const orderId = randomUUID();
    const refund = {
      refundId: randomUUID(),
      orderId,
      customerId: user.id,
      currencyCode: "EUR",
      amount: 2000,
      lines: [{ productId: "65f0a1b2c3d4e5f6a7b8c9d1", quantity: 2, unitPrice: 1000 }],
      reason: "Damaged",
    };
    await env.deliver(envelope("OrderRefunded", { ...refund, refundId: randomUUID(), historical: true }));
    expect(await deliveries()).toHaveLength(0);
    await env.deliver(envelope("OrderRefunded", refund));
    const rows = await deliveries();
    expect(rows.map((row) => row.channel)).toEqual(["EMAIL", "IN_APP"]);
    expect(rows[0]?.data).toEqual({
      name: user.name,
      orderId,
      currencyCode: "EUR",
      amount: 2000,
      lines: [{ productId: "65f0a1b2c3d4e5f6a7b8c9d1", productName: null, quantity: 2, unitPrice: 1000 }],
      reason: "Damaged",
      orderUrl: `https://shop.test/account/orders/${orderId}`,
    });
  });
});

describe("wishlist and staff messages", () => {
  it("WishlistItemBackInStock tells the wishlist's owner", async () => {
    const user = await registered();
    await env.deliver(
      envelope("WishlistItemBackInStock", {
        customerId: user.id,
        productId: "65f0a1b2c3d4e5f6a7b8c9d0",
        productName: "Kettle",
      }),
    );
    const rows = await deliveries();
    expect(rows.map((row) => [row.message_type, row.channel])).toEqual([
      ["BACK_IN_STOCK", "EMAIL"],
      ["BACK_IN_STOCK", "IN_APP"],
    ]);
    expect(rows[0]?.data).toEqual({
      name: user.name,
      productId: "65f0a1b2c3d4e5f6a7b8c9d0",
      productName: "Kettle",
      productUrl: "https://shop.test/products/65f0a1b2c3d4e5f6a7b8c9d0",
    });
  });

  it("StockLow goes to every admin (by their preferences) and every configured address, never to customers", async () => {
    const admin = await registered({ role: "ADMIN", email: "admin@shop.test" });
    const quietAdmin = await registered({ role: "ADMIN", email: "quiet@shop.test" });
    await registered({ role: "CUSTOMER" });
    // An admin who is also a configured address hears once.
    await registered({ role: "ADMIN", email: TEST_STAFF_EMAILS[0] });
    await env.pg.db
      .insertInto("notification_preferences")
      .values({ user_id: quietAdmin.id, message_type: "LOW_STOCK", channel: "EMAIL", enabled: false })
      .execute();
    await env.deliver(
      envelope("StockLow", {
        productId: "65f0a1b2c3d4e5f6a7b8c9d0",
        sku: "KET-1",
        available: 2,
        threshold: 5,
      }),
    );
    const rows = await deliveries();
    const emails = rows.filter((row) => row.channel === "EMAIL").map((row) => row.email);
    expect(emails.sort()).toEqual(["admin@shop.test", TEST_STAFF_EMAILS[0]].sort());
    expect(rows.filter((row) => row.channel === "IN_APP")).toHaveLength(3);
    expect(rows.find((row) => row.user_id === admin.id)?.data).toEqual({
      productId: "65f0a1b2c3d4e5f6a7b8c9d0",
      sku: "KET-1",
      available: 2,
      threshold: 5,
      adminUrl: "https://shop.test/admin/inventory/65f0a1b2c3d4e5f6a7b8c9d0",
    });
  });
});

describe("preferences", () => {
  it("a channel switched off gets no row; the other still does", async () => {
    const user = await registered();
    await env.pg.db
      .insertInto("notification_preferences")
      .values([
        { user_id: user.id, message_type: "ORDER_SHIPPED", channel: "EMAIL", enabled: false },
        { user_id: user.id, message_type: "ORDER_CONFIRMED", channel: "IN_APP", enabled: false },
      ])
      .execute();
    await env.deliver(statusChanged(user.id, "SHIPPED"), statusChanged(user.id, "CONFIRMED"));
    const rows = await deliveries();
    expect(rows.map((row) => [row.message_type, row.channel])).toEqual([
      ["ORDER_CONFIRMED", "EMAIL"],
      ["ORDER_SHIPPED", "IN_APP"],
    ]);
  });

  it("a customer never gets staff messages, even with a preference row saying on", async () => {
    const customer = await registered();
    await env.pg.db
      .insertInto("notification_preferences")
      .values({ user_id: customer.id, message_type: "LOW_STOCK", channel: "EMAIL", enabled: true })
      .execute();
    await env.deliver(
      envelope("StockLow", { productId: "65f0a1b2c3d4e5f6a7b8c9d0", sku: null, available: 0, threshold: 5 }),
    );
    const rows = await deliveries();
    expect(rows.some((row) => row.user_id === customer.id)).toBe(false);
    expect(rows.map((row) => row.email)).toEqual([TEST_STAFF_EMAILS[0]]);
  });
});

describe("replays", () => {
  it("every event applied again, and again concurrently, queues no second delivery", async () => {
    const user = await registered();
    await registered({ role: "ADMIN", email: "admin@shop.test" });
    const events: EventEnvelope[] = [
      statusChanged(user.id, "CONFIRMED"),
      statusChanged(user.id, "REJECTED", { reason: "Out of stock" }),
      statusChanged(user.id, "CANCELLED", { reason: "x" }),
      statusChanged(user.id, "SHIPPED"),
      statusChanged(user.id, "DELIVERED"),
      statusChanged(null, "CONFIRMED", { guestEmail: "guest@example.test" }),
      envelope("OrderRefunded", {
        refundId: randomUUID(),
        orderId: null,
        customerId: user.id,
        currencyCode: "EUR",
        amount: 100,
        lines: [],
        reason: "r",
      }),
      envelope("WishlistItemBackInStock", {
        customerId: user.id,
        productId: "65f0a1b2c3d4e5f6a7b8c9d0",
        productName: null,
      }),
      envelope("StockLow", { productId: "65f0a1b2c3d4e5f6a7b8c9d0", sku: null, available: 1, threshold: 5 }),
      envelope("PasswordResetRequested", {
        userId: user.id,
        email: user.email as string,
        name: "Ada",
        sealedToken: sealed("t1"),
        expiresAt: "2026-12-03T17:00:00.000Z",
        purpose: "reset",
      }),
      envelope("EmailVerificationRequested", {
        userId: user.id,
        email: user.email as string,
        name: "Ada",
        sealedToken: sealed("t2"),
        expiresAt: "2026-12-03T17:00:00.000Z",
      }),
      envelope("PasswordChanged", {
        userId: user.id,
        email: user.email as string,
        name: "Ada",
        via: "change",
      }),
    ];
    expect(await env.deliver(...events)).toEqual(events.map(() => true));
    const first = await deliveries();
    // 5 order messages x 2 channels, guest 1, refund 2, wishlist 2, staff: admin 2 + configured 1, account 3.
    expect(first).toHaveLength(10 + 1 + 2 + 2 + 3 + 3);

    expect(await env.deliver(...events)).toEqual(events.map(() => false));
    // Redelivered to several workers at once, and with the processed-events record lost (a
    // restored backup): the idempotency keys still hold.
    await env.pg.db.deleteFrom("processed_events").execute();
    await Promise.all(
      events.flatMap((event) => [env.deliver(event), env.deliver(event), env.deliver(event)]),
    );
    const after = await deliveries();
    expect(after).toHaveLength(first.length);
    expect(after.map((row) => row.id).sort()).toEqual(first.map((row) => row.id).sort());
  });
});
