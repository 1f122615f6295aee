import { randomUUID } from "node:crypto";
import type { OrderSnapshot } from "@nexus/events";
import { globalId } from "@nexus/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestEnv, envelope, type TestEnv, userSnapshot } from "../test-env.ts";

let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv("notifications_inbox");
});
afterAll(async () => {
  await env?.close();
});
beforeEach(async () => {
  await env.reset();
});

const ORDER: OrderSnapshot = {
  currencyCode: "EUR",
  total: 0,
  lines: [],
  shippingAddress: null,
  placedAt: "2026-12-01T00:00:00Z",
};

/** A customer with `count` shipped orders, one in-app message each, oldest first. */
async function customerWithMessages(count: number) {
  const user = userSnapshot();
  await env.deliver(envelope("UserRegistered", { user }, "2026-01-01T00:00:00Z"));
  const orderIds: string[] = [];
  for (let i = 0; i < count; i++) {
    const orderId = randomUUID();
    orderIds.push(orderId);
    await env.deliver(
      envelope("OrderStatusChanged", {
        orderId,
        customerId: user.id,
        guestEmail: null,
        status: "SHIPPED",
        previousStatus: "CONFIRMED",
        reason: null,
        trackingNumber: null,
        linesReturnedToCart: false,
        order: ORDER,
      }),
    );
  }
  return { user, orderIds, bearer: await env.auth.bearer(user.id) };
}

const INBOX = `query ($reps: [_Any!]!, $first: Int, $after: String, $unreadOnly: Boolean) {
  _entities(representations: $reps) {
    ... on User {
      id
      unreadNotificationCount
      notifications(first: $first, after: $after, unreadOnly: $unreadOnly) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage endCursor }
        edges { cursor node { id type title summary url createdAt readAt } }
      }
    }
  }
}`;

type InboxPage = {
  id: string;
  unreadNotificationCount: number;
  notifications: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
    edges: {
      cursor: string;
      node: {
        id: string;
        type: string;
        title: string;
        summary: string;
        url: string | null;
        readAt: string | null;
      };
    }[];
  };
};

async function inboxPage(
  userId: string,
  bearer: string | undefined,
  variables: Record<string, unknown> = {},
) {
  const result = await env.run(INBOX, { reps: [{ __typename: "User", id: userId }], ...variables }, bearer);
  return result;
}

const pageOf = (result: Awaited<ReturnType<typeof inboxPage>>) => {
  expect(result.errors).toBeUndefined();
  return (result.data as { _entities: InboxPage[] })._entities[0] as InboxPage;
};

describe("the in-app inbox", () => {
  it("pages newest first through _entities, with counts and links", async () => {
    const { user, orderIds, bearer } = await customerWithMessages(5);
    const first = pageOf(await inboxPage(user.id, bearer, { first: 2 }));
    expect(first.id).toBe(user.id);
    expect(first.unreadNotificationCount).toBe(5);
    expect(first.notifications.totalCount).toBe(5);
    expect(first.notifications.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(first.notifications.edges.map((e) => e.node.url)).toEqual([
      `https://shop.test/account/orders/${orderIds[4]}`,
      `https://shop.test/account/orders/${orderIds[3]}`,
    ]);
    const node = first.notifications.edges[0]?.node;
    expect(node).toMatchObject({ type: "ORDER_SHIPPED", readAt: null });
    expect(node?.title.length).toBeGreaterThan(0);
    expect(node?.summary.length).toBeGreaterThan(0);

    const seen = first.notifications.edges.map((e) => e.node.id);
    let after = first.notifications.pageInfo.endCursor;
    for (;;) {
      const page = pageOf(await inboxPage(user.id, bearer, { first: 2, after }));
      expect(page.notifications.pageInfo.hasPreviousPage).toBe(true);
      seen.push(...page.notifications.edges.map((e) => e.node.id));
      if (!page.notifications.pageInfo.hasNextPage) break;
      after = page.notifications.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
  });

  it("marks chosen messages read, then all; unreadOnly and the counts follow", async () => {
    const { user, bearer } = await customerWithMessages(4);
    const all = pageOf(await inboxPage(user.id, bearer));
    const [a, b] = all.notifications.edges.map((e) => e.node.id);
    const MARK = `mutation ($input: MarkNotificationsReadInput!) {
      markNotificationsRead(input: $input) { markedCount unreadNotificationCount userErrors { field code } }
    }`;
    const marked = await env.run(MARK, { input: { ids: [a, b, a] } }, bearer);
    expect(marked.data).toEqual({
      markNotificationsRead: { markedCount: 2, unreadNotificationCount: 2, userErrors: [] },
    });
    // Marking them again changes nothing.
    const again = await env.run(MARK, { input: { ids: [a] } }, bearer);
    expect(again.data).toMatchObject({
      markNotificationsRead: { markedCount: 0, unreadNotificationCount: 2 },
    });

    const unread = pageOf(await inboxPage(user.id, bearer, { unreadOnly: true }));
    expect(unread.notifications.totalCount).toBe(2);
    expect(unread.notifications.edges.map((e) => e.node.id)).not.toContain(a);
    const readNode = pageOf(await inboxPage(user.id, bearer)).notifications.edges.find(
      (e) => e.node.id === a,
    );
    expect(readNode?.node.readAt).not.toBeNull();

    const everything = await env.run(MARK, { input: { all: true } }, bearer);
    expect(everything.data).toMatchObject({
      markNotificationsRead: { markedCount: 2, unreadNotificationCount: 0 },
    });
  });

  it("refuses bad input with userErrors and marks nothing", async () => {
    const { user, bearer } = await customerWithMessages(1);
    const MARK = `mutation ($input: MarkNotificationsReadInput!) {
      markNotificationsRead(input: $input) { markedCount unreadNotificationCount userErrors { field code } }
    }`;
    const cases: [Record<string, unknown>, string, string[]][] = [
      [{}, "INVALID_INPUT", ["input"]],
      [{ all: true, ids: [randomUUID()] }, "INVALID_INPUT", ["input"]],
      [{ all: false }, "INVALID_INPUT", ["input"]],
      [{ ids: [] }, "INVALID_INPUT", ["input", "ids"]],
      [{ ids: Array.from({ length: 101 }, () => randomUUID()) }, "INVALID_INPUT", ["input", "ids"]],
      [{ ids: [randomUUID(), "not-an-id"] }, "INVALID_ID", ["input", "ids", "1"]],
    ];
    for (const [input, code, field] of cases) {
      const result = await env.run(MARK, { input }, bearer);
      expect(result.data).toEqual({
        markNotificationsRead: { markedCount: 0, unreadNotificationCount: 1, userErrors: [{ field, code }] },
      });
    }
    expect(pageOf(await inboxPage(user.id, bearer)).unreadNotificationCount).toBe(1);
  });

  it("another user's ids mark nothing of theirs", async () => {
    const owner = await customerWithMessages(1);
    const other = await customerWithMessages(0);
    const [id] = pageOf(await inboxPage(owner.user.id, owner.bearer)).notifications.edges.map(
      (e) => e.node.id,
    );
    const result = await env.run(
      `mutation ($input: MarkNotificationsReadInput!) { markNotificationsRead(input: $input) { markedCount } }`,
      { input: { ids: [id] } },
      other.bearer,
    );
    expect(result.data).toEqual({ markNotificationsRead: { markedCount: 0 } });
    expect(pageOf(await inboxPage(owner.user.id, owner.bearer)).unreadNotificationCount).toBe(1);
  });

  it("only the account holder may read the inbox: others, staff and anonymous callers are refused", async () => {
    const owner = await customerWithMessages(2);
    const stranger = await env.auth.bearer(randomUUID());
    const admin = await env.auth.bearer(randomUUID(), "ADMIN");
    for (const bearer of [stranger, admin]) {
      const result = await inboxPage(owner.user.id, bearer);
      expect(result.errors?.map((e) => e.extensions?.code)).toContain("FORBIDDEN");
      expect(JSON.stringify(result.data)).not.toContain("ORDER_SHIPPED");
    }
    const anonymous = await inboxPage(owner.user.id, undefined);
    expect(anonymous.errors?.map((e) => e.extensions?.code)).toContain("UNAUTHENTICATED");
  });

  it("refuses a cursor it did not hand out and a page size out of range", async () => {
    const { user, bearer } = await customerWithMessages(1);
    for (const variables of [
      { after: "bm90LWEtY3Vyc29y" },
      { after: Buffer.from('["inbox","2026-13-01 00:00:00+00","x"]').toString("base64url") },
      { first: 0 },
      { first: 101 },
    ]) {
      const result = await inboxPage(user.id, bearer, variables);
      expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    }
  });
});

describe("preferences", () => {
  const PREFS = `{ notificationPreferences { type channel enabled locked } }`;
  const UPDATE = `mutation ($input: UpdateNotificationPreferencesInput!) {
    updateNotificationPreferences(input: $input) {
      preferences { type channel enabled locked }
      userErrors { field code }
    }
  }`;
  type Pref = { type: string; channel: string; enabled: boolean; locked: boolean };

  it("lists every type a customer can get, all on, transactional ones locked and email only; staff types for staff alone", async () => {
    const customer = await env.auth.bearer(randomUUID());
    const result = await env.run(PREFS, {}, customer);
    const prefs = (result.data as { notificationPreferences: Pref[] }).notificationPreferences;
    expect(prefs.every((p) => p.enabled)).toBe(true);
    expect(prefs.filter((p) => p.locked)).toEqual([
      { type: "EMAIL_VERIFICATION", channel: "EMAIL", enabled: true, locked: true },
      { type: "PASSWORD_RESET", channel: "EMAIL", enabled: true, locked: true },
      { type: "PASSWORD_CHANGED", channel: "EMAIL", enabled: true, locked: true },
    ]);
    expect(prefs.some((p) => p.type === "LOW_STOCK" || p.type === "EVENT_FAILED")).toBe(false);
    expect(prefs).toHaveLength(3 + 7 * 2);

    const admin = await env.auth.bearer(randomUUID(), "ADMIN");
    const staff = (await env.run(PREFS, {}, admin)).data as { notificationPreferences: Pref[] };
    expect(staff.notificationPreferences).toHaveLength(3 + 9 * 2);
  });

  it("saves changes, and the consumer honours them", async () => {
    const { user, bearer } = await customerWithMessages(0);
    const result = await env.run(
      UPDATE,
      {
        input: {
          preferences: [
            { type: "ORDER_SHIPPED", channel: "EMAIL", enabled: false },
            { type: "BACK_IN_STOCK", channel: "IN_APP", enabled: false },
          ],
        },
      },
      bearer,
    );
    const payload = (
      result.data as { updateNotificationPreferences: { preferences: Pref[]; userErrors: unknown[] } }
    ).updateNotificationPreferences;
    expect(payload.userErrors).toEqual([]);
    expect(payload.preferences.filter((p) => !p.enabled).map((p) => `${p.type}:${p.channel}`)).toEqual([
      "ORDER_SHIPPED:EMAIL",
      "BACK_IN_STOCK:IN_APP",
    ]);
    // Switched back on: the row says so.
    await env.run(
      UPDATE,
      { input: { preferences: [{ type: "BACK_IN_STOCK", channel: "IN_APP", enabled: true }] } },
      bearer,
    );
    await env.deliver(
      envelope("OrderStatusChanged", {
        orderId: randomUUID(),
        customerId: user.id,
        guestEmail: null,
        status: "SHIPPED",
        previousStatus: "CONFIRMED",
        reason: null,
        trackingNumber: null,
        linesReturnedToCart: false,
        order: ORDER,
      }),
      envelope("WishlistItemBackInStock", {
        customerId: user.id,
        productId: "65f0a1b2c3d4e5f6a7b8c9d0",
        productName: "Kettle",
      }),
    );
    const rows = await env.pg.db
      .selectFrom("deliveries")
      .select(["message_type", "channel"])
      .where("user_id", "=", user.id)
      .orderBy("message_type")
      .orderBy("channel")
      .execute();
    expect(rows).toEqual([
      { message_type: "BACK_IN_STOCK", channel: "EMAIL" },
      { message_type: "BACK_IN_STOCK", channel: "IN_APP" },
      { message_type: "ORDER_SHIPPED", channel: "IN_APP" },
    ]);
  });

  it("refuses switching off a transactional type, staff types for customers, unused channels and duplicates, saving nothing", async () => {
    const userId = randomUUID();
    const bearer = await env.auth.bearer(userId);
    const result = await env.run(
      UPDATE,
      {
        input: {
          preferences: [
            { type: "ORDER_CONFIRMED", channel: "EMAIL", enabled: false },
            { type: "PASSWORD_RESET", channel: "EMAIL", enabled: false },
            { type: "LOW_STOCK", channel: "EMAIL", enabled: false },
            { type: "EMAIL_VERIFICATION", channel: "IN_APP", enabled: true },
            { type: "ORDER_CONFIRMED", channel: "EMAIL", enabled: true },
          ],
        },
      },
      bearer,
    );
    const payload = (
      result.data as { updateNotificationPreferences: { preferences: Pref[]; userErrors: unknown[] } }
    ).updateNotificationPreferences;
    expect(payload.userErrors).toEqual([
      { field: ["input", "preferences", "1", "enabled"], code: "TRANSACTIONAL_REQUIRED" },
      { field: ["input", "preferences", "2", "type"], code: "STAFF_ONLY" },
      { field: ["input", "preferences", "3", "channel"], code: "CHANNEL_NOT_AVAILABLE" },
      { field: ["input", "preferences", "4"], code: "DUPLICATE_PREFERENCE" },
    ]);
    expect(payload.preferences.every((p) => p.enabled)).toBe(true);
    const saved = await env.pg.db
      .selectFrom("notification_preferences")
      .selectAll()
      .where("user_id", "=", userId)
      .execute();
    expect(saved).toHaveLength(0);

    const empty = await env.run(UPDATE, { input: { preferences: [] } }, bearer);
    expect(empty.data).toMatchObject({
      updateNotificationPreferences: {
        userErrors: [{ field: ["input", "preferences"], code: "INVALID_INPUT" }],
      },
    });
  });

  it("an admin may switch staff messages off", async () => {
    const adminId = randomUUID();
    const admin = await env.auth.bearer(adminId, "ADMIN");
    const result = await env.run(
      UPDATE,
      { input: { preferences: [{ type: "EVENT_FAILED", channel: "EMAIL", enabled: false }] } },
      admin,
    );
    expect(result.data).toMatchObject({ updateNotificationPreferences: { userErrors: [] } });
    const saved = await env.pg.db
      .selectFrom("notification_preferences")
      .selectAll()
      .where("user_id", "=", adminId)
      .execute();
    expect(saved).toMatchObject([{ message_type: "EVENT_FAILED", channel: "EMAIL", enabled: false }]);
  });

  it("needs a signed-in user", async () => {
    const result = await env.run(PREFS, {});
    expect(result.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });
});

describe("global ids at notifications' edge", () => {
  it("resolves a User reference that carries a global id, and answers with that id", async () => {
    const raw = randomUUID();
    const user = globalId("User", raw);
    const result = await env.runGlobal(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id } } }`,
      {
        reps: [
          { __typename: "User", id: user },
          { __typename: "User", id: raw },
        ],
      },
    );
    expect(result.data).toEqual({ _entities: [{ id: user }, { id: user }] });
  });
});
