import type { Logger } from "@nexus/core";
import type { MailTransport } from "@nexus/mail";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import {
  type ClaimedEmail,
  claimDueEmails,
  markAttemptFailed,
  markSent,
} from "../deliveries/deliveries.repository.ts";
import type { Message, StoreInfo } from "../mail/message-types.ts";
import { renderMessage } from "../mail/render.ts";
import { isPermanentFailure, messageIdFor, retryDelayMs } from "../messages/messages.model.ts";

export interface MailSenderOptions {
  db: Kysely<Database>;
  transport: MailTransport;
  /** The sender address (MAIL_FROM); its domain names the Message-IDs. */
  from: string;
  store: StoreInfo;
  logger: Logger;
  /** Emails in flight at once (MAIL_SEND_CONCURRENCY). */
  concurrency: number;
  /** Attempts before an email is FAILED (MAIL_SEND_ATTEMPTS). */
  attempts: number;
  /** First retry delay, doubling (MAIL_RETRY_BACKOFF_MS). */
  backoffMs: number;
  /** How often to look for due emails when nobody woke the sender (MAIL_POLL_MS). */
  pollMs: number;
  /**
   * How long a claimed email stays out of other senders' reach. Far above the transport's
   * timeouts, so only a sender that died lets it go, and then it is sent again with the same
   * Message-ID.
   */
  leaseMs?: number;
}

export interface MailSender {
  /** Look for due emails now (called after each commit that queued one). */
  wake(): void;
  /** Resolves once nothing is due and nothing is in flight (tests wait on it). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** The header carrying a delivery's idempotency key, for receivers and mail logs. */
export const IDEMPOTENCY_HEADER = "X-Nexus-Idempotency-Key";

const DEFAULT_LEASE_MS = 5 * 60_000;

/**
 * The email worker. The deliveries table is its queue: rows commit with the event that caused
 * them, so there is no second system to publish to and nothing lost between the two. Each pass
 * claims due rows with `FOR UPDATE SKIP LOCKED` (replicas never claim one row twice), sends
 * them, and records the outcome; a commit wakes it at once, and a poll covers retries and rows
 * another replica committed.
 */
export function startMailSender(options: MailSenderOptions): MailSender {
  const { db, logger } = options;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;

  async function sendOne(row: ClaimedEmail): Promise<void> {
    const messageId = row.message_id ?? messageIdFor(row.idempotency_key, options.from);
    const message = { type: row.message_type, data: row.data } as Message;
    try {
      const rendered = renderMessage(message, options.store);
      const sent = await options.transport.send({
        to: row.email,
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        headers: { "Message-ID": messageId, [IDEMPOTENCY_HEADER]: row.idempotency_key },
      });
      await markSent(db, row.id, { messageId, providerResponse: sent.response });
    } catch (error) {
      const permanent = isPermanentFailure(error);
      const last = permanent || row.attempts >= options.attempts;
      const text = error instanceof Error ? error.message : String(error);
      await markAttemptFailed(db, row.id, {
        error: text.slice(0, 2000),
        messageId,
        retryInMs: last ? null : retryDelayMs(row.attempts, options.backoffMs),
      });
      const fields = { deliveryId: row.id, type: row.message_type, attempts: row.attempts, error: text };
      if (last) logger.error("email failed for good", fields);
      else logger.warn("email failed; it will be retried", fields);
    }
  }

  /** Claims and sends until nothing is due, keeping up to `concurrency` emails in flight. */
  async function drain(): Promise<void> {
    do {
      again = false;
      const inFlight = new Set<Promise<void>>();
      for (;;) {
        if (stopped) {
          // Sends already started finish and are recorded before the database closes.
          await Promise.all(inFlight);
          break;
        }
        const room = options.concurrency - inFlight.size;
        const claimed = room > 0 ? await claimDueEmails(db, room, leaseMs) : [];
        for (const row of claimed) {
          const work = sendOne(row).catch((error: unknown) =>
            logger.error("email outcome not recorded", { deliveryId: row.id, error }),
          );
          inFlight.add(work);
          void work.finally(() => inFlight.delete(work));
        }
        if (inFlight.size === 0) break;
        await Promise.race(inFlight);
      }
    } while (again && !stopped);
  }

  function wake(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = drain()
      .catch((error: unknown) => logger.error("email sender pass failed", { error }))
      .finally(() => {
        running = null;
      });
  }

  const timer = setInterval(wake, options.pollMs);
  timer.unref();
  wake();

  return {
    wake,
    async idle() {
      wake();
      while (running) await running;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
