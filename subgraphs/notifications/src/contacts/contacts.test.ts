import { randomUUID } from "node:crypto";
import type { OrderSnapshot } from "@nexus/events";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestEnv, envelope, type TestEnv, userSnapshot } from "../test-env.ts";

let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv("notifications_contacts");
});
afterAll(async () => {
  await env?.close();
});
beforeEach(async () => {
  await env.reset();
});

const contact = (userId: string) =>
  env.pg.db.selectFrom("contacts").selectAll().where("user_id", "=", userId).executeTakeFirst();

const ORDER: OrderSnapshot = {
  currencyCode: "EUR",
  total: 0,
  lines: [],
  shippingAddress: null,
  placedAt: "2026-12-01T00:00:00Z",
};

describe("the contacts projection", () => {
  it("keeps the newest snapshot whatever order the events arrive in", async () => {
    const user = userSnapshot({ email: "first@example.test", name: "First" });
    const registered = envelope("UserRegistered", { user }, "2026-01-01T00:00:00Z");
    const renamed = envelope(
      "UserChanged",
      { user: { ...user, name: "Second" }, changed: ["name"] },
      "2026-01-02T00:00:00Z",
    );
    const moved = envelope(
      "UserChanged",
      {
        user: { ...user, name: "Second", email: "Third@Example.test", emailVerified: false },
        changed: ["email", "emailVerified"],
      },
      "2026-01-03T00:00:00Z",
    );
    // Newest first, then the older ones late.
    await env.deliver(moved, registered, renamed);
    expect(await contact(user.id)).toMatchObject({
      email: "third@example.test",
      name: "Second",
      email_verified: false,
      role: "CUSTOMER",
      deleted: false,
      version_at: new Date("2026-01-03T00:00:00Z"),
    });
    const promoted = envelope(
      "UserChanged",
      { user: { ...user, name: "Second", email: "third@example.test", role: "ADMIN" }, changed: ["role"] },
      "2026-01-04T00:00:00Z",
    );
    await env.deliver(promoted);
    expect(await contact(user.id)).toMatchObject({ role: "ADMIN", email_verified: true });
  });

  it("a snapshot as old as the one held changes nothing", async () => {
    const user = userSnapshot({ name: "Kept" });
    await env.deliver(envelope("UserRegistered", { user }, "2026-01-01T00:00:00Z"));
    await env.deliver(
      envelope(
        "UserChanged",
        { user: { ...user, name: "Same time" }, changed: ["name"] },
        "2026-01-01T00:00:00Z",
      ),
    );
    expect((await contact(user.id))?.name).toBe("Kept");
  });

  it("UserDeleted removes personal data, the inbox, unsent email and preferences; later snapshots do not bring it back", async () => {
    const user = userSnapshot({ email: "gone@example.test" });
    await env.deliver(envelope("UserRegistered", { user }, "2026-01-01T00:00:00Z"));
    await env.pg.db
      .insertInto("notification_preferences")
      .values({ user_id: user.id, message_type: "ORDER_SHIPPED", channel: "EMAIL", enabled: false })
      .execute();
    const order = (status: "CONFIRMED" | "DELIVERED") =>
      envelope("OrderStatusChanged", {
        orderId: randomUUID(),
        customerId: user.id,
        guestEmail: null,
        status,
        previousStatus: "PENDING",
        reason: null,
        trackingNumber: null,
        linesReturnedToCart: false,
        order: ORDER,
      });
    await env.deliver(order("CONFIRMED"));
    // One email already went out: its record stays, without address or content.
    await env.pg.db
      .updateTable("deliveries")
      .set({ status: "SENT", sent_at: new Date() })
      .where("channel", "=", "EMAIL")
      .execute();
    await env.deliver(order("DELIVERED"));
    const someoneElse = userSnapshot();
    await env.deliver(envelope("UserRegistered", { user: someoneElse }), order("CONFIRMED"));

    await env.deliver(envelope("UserDeleted", { userId: user.id }, "2026-02-01T00:00:00Z"));
    expect(await contact(user.id)).toMatchObject({ email: null, name: null, role: null, deleted: true });
    const left = await env.pg.db
      .selectFrom("deliveries")
      .selectAll()
      .where("user_id", "=", user.id)
      .execute();
    expect(left).toHaveLength(1);
    expect(left[0]).toMatchObject({ channel: "EMAIL", status: "SENT", email: null, data: {} });
    const prefs = await env.pg.db.selectFrom("notification_preferences").selectAll().execute();
    expect(prefs).toHaveLength(0);

    // A snapshot published before the deletion but heard after it.
    await env.deliver(
      envelope("UserChanged", { user: { ...user, name: "Late" }, changed: ["name"] }, "2026-03-01T00:00:00Z"),
    );
    expect(await contact(user.id)).toMatchObject({ email: null, name: null, deleted: true });
    // And nothing more is written to the deleted account.
    await env.deliver(order("DELIVERED"));
    const after = await env.pg.db
      .selectFrom("deliveries")
      .selectAll()
      .where("user_id", "=", user.id)
      .execute();
    expect(after).toHaveLength(1);
  });

  it("a deletion heard before the registration leaves only the tombstone", async () => {
    const user = userSnapshot();
    await env.deliver(envelope("UserDeleted", { userId: user.id }, "2026-02-01T00:00:00Z"));
    await env.deliver(envelope("UserRegistered", { user }, "2026-01-01T00:00:00Z"));
    expect(await contact(user.id)).toMatchObject({ email: null, deleted: true });
  });
});
