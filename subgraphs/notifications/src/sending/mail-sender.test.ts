import { randomUUID } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import type { OrderSnapshot } from "@nexus/events";
import { startMailCatcher } from "@nexus/mail";
import { until } from "@nexus/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { claimDueEmails } from "../deliveries/deliveries.repository.ts";
import { messageIdFor } from "../messages/messages.model.ts";
import { createTestEnv, envelope, TEST_MAIL_FROM, type TestEnv, userSnapshot } from "../test-env.ts";
import { IDEMPOTENCY_HEADER } from "./mail-sender.sweeper.ts";

let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv("notifications_sender");
});
afterAll(async () => {
  await env?.close();
});
beforeEach(async () => {
  await env.reset();
});

const ORDER: OrderSnapshot = {
  currencyCode: "EUR",
  total: 2500,
  lines: [{ productId: "65f0a1b2c3d4e5f6a7b8c9d0", productName: "Kettle", quantity: 1, unitPrice: 2500 }],
  shippingAddress: null,
  placedAt: "2026-12-01T10:00:00.000Z",
};

/** Registers a customer and confirms an order of theirs: one queued email. */
async function queueOrderEmail(email = `c-${randomUUID().slice(0, 8)}@example.test`) {
  const user = userSnapshot({ email });
  const event = envelope("OrderStatusChanged", {
    orderId: randomUUID(),
    customerId: user.id,
    guestEmail: null,
    status: "CONFIRMED",
    previousStatus: "PENDING",
    reason: null,
    trackingNumber: null,
    linesReturnedToCart: false,
    order: ORDER,
  });
  await env.deliver(envelope("UserRegistered", { user }, "2026-01-01T00:00:00Z"), event);
  const row = await env.pg.db
    .selectFrom("deliveries")
    .selectAll()
    .where("event_id", "=", event.id)
    .where("channel", "=", "EMAIL")
    .executeTakeFirstOrThrow();
  return { user, event, row };
}

const rowOf = (id: string) =>
  env.pg.db.selectFrom("deliveries").selectAll().where("id", "=", id).executeTakeFirstOrThrow();

/**
 * A real SMTP server over TCP that refuses every recipient with `reply` (e.g. "550 5.1.1 No
 * such user" or "451 4.3.0 Try later"), for failures the catcher does not make.
 */
async function startRefusingSmtp(
  reply: string,
): Promise<{ url: string; rcpts: () => number; stop(): Promise<void> }> {
  let rcpts = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.write("220 refuser ESMTP\r\n");
    let buffer = "";
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8");
      let end = buffer.indexOf("\r\n");
      while (end >= 0) {
        const line = buffer.slice(0, end).toUpperCase();
        buffer = buffer.slice(end + 2);
        if (line.startsWith("EHLO")) socket.write("250-refuser\r\n250 8BITMIME\r\n");
        else if (line.startsWith("HELO")) socket.write("250 refuser\r\n");
        else if (line.startsWith("MAIL FROM")) socket.write("250 2.1.0 Ok\r\n");
        else if (line.startsWith("RCPT TO")) {
          rcpts += 1;
          socket.write(`${reply}\r\n`);
        } else if (line.startsWith("RSET") || line.startsWith("NOOP")) socket.write("250 2.0.0 Ok\r\n");
        else if (line.startsWith("QUIT")) socket.end("221 2.0.0 Bye\r\n");
        else socket.write("502 5.5.2 Not implemented\r\n");
        end = buffer.indexOf("\r\n");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${address.port}`,
    rcpts: () => rcpts,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe("the email sender over real SMTP", () => {
  it("sends a queued email with a stable Message-ID and the idempotency key, and records it", async () => {
    const { user, row } = await queueOrderEmail();
    const sender = env.startSender();
    await sender.idle();
    const expectedId = messageIdFor(row.idempotency_key, TEST_MAIL_FROM);
    const mail = await env.mail.waitFor((m) => m.to.includes(user.email as string));
    expect(mail.messageId).toBe(expectedId);
    expect(mail.headers.get(IDEMPOTENCY_HEADER.toLowerCase())).toBe(row.idempotency_key);
    expect(mail.from).toBe("store@shop.test");
    expect(mail.text.length).toBeGreaterThan(0);
    const sent = await rowOf(row.id);
    expect(sent).toMatchObject({ status: "SENT", attempts: 1, message_id: expectedId, last_error: null });
    expect(sent.provider_response).toMatch(/^250/);
    expect(sent.sent_at).toBeInstanceOf(Date);
    // Nothing else was sent to this address: one delivery, one message.
    expect(env.mail.messages().filter((m) => m.to.includes(user.email as string))).toHaveLength(1);
  });

  it("retries with backoff while the server is down, then sends once it is up", async () => {
    // A port nothing listens on yet: take a free one from a catcher and stop it.
    const probe = await startMailCatcher();
    await probe.stop();
    const { user, row } = await queueOrderEmail();
    const sender = env.startSender({ smtpUrl: probe.url, attempts: 20, backoffMs: 100 });
    const failed = await until("a failed attempt recorded", async () => {
      const current = await rowOf(row.id);
      return current.attempts >= 1 && current.last_error !== null ? current : false;
    });
    expect(failed.status).toBe("QUEUED");
    expect(failed.next_attempt_at.getTime()).toBeGreaterThan(Date.now() - 50);

    const port = Number(new URL(probe.url).port);
    const server = await startMailCatcher({ port });
    try {
      const mail = await server.waitFor((m) => m.to.includes(user.email as string), 20_000);
      await until("the send recorded", async () => (await rowOf(row.id)).status === "SENT");
      const sent = await rowOf(row.id);
      expect(sent.attempts).toBeGreaterThanOrEqual(2);
      expect(sent.last_error).toBeNull();
      // The retry carries the Message-ID of the first attempt.
      expect(mail.messageId).toBe(failed.message_id);
      expect(server.messages()).toHaveLength(1);
    } finally {
      await sender.stop();
      await server.stop();
    }
  });

  it("records a 5xx refusal as FAILED at once, with the server's reply", async () => {
    const refuser = await startRefusingSmtp("550 5.1.1 No such user here");
    try {
      const { row } = await queueOrderEmail();
      const sender = env.startSender({ smtpUrl: refuser.url, attempts: 5 });
      await until("the failure recorded", async () => (await rowOf(row.id)).status === "FAILED");
      await sender.idle();
      const failed = await rowOf(row.id);
      expect(failed.attempts).toBe(1);
      expect(failed.last_error).toMatch(/550/);
      expect(failed.sent_at).toBeNull();
      expect(refuser.rcpts()).toBe(1);
    } finally {
      await refuser.stop();
    }
  });

  it("retries a 4xx refusal and gives up after the last attempt", async () => {
    const refuser = await startRefusingSmtp("451 4.3.0 Try again later");
    try {
      const { row } = await queueOrderEmail();
      env.startSender({ smtpUrl: refuser.url, attempts: 3, backoffMs: 20 });
      await until("the failure recorded", async () => (await rowOf(row.id)).status === "FAILED");
      const failed = await rowOf(row.id);
      expect(failed.attempts).toBe(3);
      expect(failed.last_error).toMatch(/451/);
      expect(refuser.rcpts()).toBe(3);
    } finally {
      await refuser.stop();
    }
  });

  it("several senders on one database send each delivery once", async () => {
    const queued = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        queueOrderEmail(`replica-${i}-${randomUUID().slice(0, 6)}@example.test`),
      ),
    );
    const before = env.mail.messages().length;
    const senders = [env.startSender(), env.startSender(), env.startSender()];
    await until("every email sent", async () => {
      const rows = await env.pg.db
        .selectFrom("deliveries")
        .select("status")
        .where("channel", "=", "EMAIL")
        .where("status", "=", "QUEUED")
        .execute();
      return rows.length === 0;
    });
    await Promise.all(senders.map((sender) => sender.idle()));
    // The catcher answers 250 before it parses what it keeps: a send recorded may not be here yet.
    await until("every email caught", () => env.mail.messages().length - before >= 30);
    const received = env.mail.messages().slice(before);
    expect(received).toHaveLength(30);
    expect(new Set(received.map((m) => m.messageId)).size).toBe(30);
    const addresses = new Set(received.flatMap((m) => m.to));
    for (const { user } of queued) expect(addresses.has(user.email as string)).toBe(true);
    const attempts = await env.pg.db
      .selectFrom("deliveries")
      .select("attempts")
      .where("channel", "=", "EMAIL")
      .execute();
    expect(attempts.every((row) => row.attempts === 1)).toBe(true);
  });

  it("an email claimed by a sender that died stays untouched until its lease lapses, then goes out with the same Message-ID", async () => {
    const { user, row } = await queueOrderEmail();
    // A sender claims it and dies before recording anything (it may or may not have sent it).
    const [claimed] = await claimDueEmails(env.pg.db, 10, 1500);
    expect(claimed?.id).toBe(row.id);
    const sender = env.startSender();
    await sender.idle();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(env.mail.messages().some((m) => m.to.includes(user.email as string))).toBe(false);
    expect((await rowOf(row.id)).status).toBe("QUEUED");

    const mail = await env.mail.waitFor((m) => m.to.includes(user.email as string), 10_000);
    expect(mail.messageId).toBe(messageIdFor(row.idempotency_key, TEST_MAIL_FROM));
    await until("the send recorded", async () => (await rowOf(row.id)).status === "SENT");
    expect((await rowOf(row.id)).attempts).toBe(2);
  });

  it("a delivery whose account was deleted mid-send is not brought back", async () => {
    const { user, row } = await queueOrderEmail();
    await env.deliver(envelope("UserDeleted", { userId: user.id }));
    const sender = env.startSender();
    await sender.idle();
    expect(
      await env.pg.db.selectFrom("deliveries").selectAll().where("id", "=", row.id).executeTakeFirst(),
    ).toBeUndefined();
    expect(env.mail.messages().some((m) => m.to.includes(user.email as string))).toBe(false);
  });
});
