import { type Logger, openFromServices, type SubgraphSecrets } from "@nexus/core";
import {
  type EventConsumer,
  type EventConsumerOptions,
  type EventEnvelope,
  type EventHandlers,
  startEventConsumer,
} from "@nexus/events";
import type { Kysely, Transaction } from "kysely";
import { tombstoneContact, upsertContact } from "../contacts/contacts.repository.ts";
import type { Database } from "../db/database.ts";
import { forgetRecipient } from "../deliveries/deliveries.repository.ts";
import { type QueueRequest, queueMessage, queueStaffMessage } from "../deliveries/deliveries.service.ts";
import {
  backInStockMessage,
  lowStockMessage,
  orderStatusMessage,
  refundMessage,
  storeLink,
} from "../messages/messages.model.ts";
import { deletePreferencesOf } from "../preferences/preferences.repository.ts";

export interface NotificationHandlerDeps {
  /** Opens the sealed tokens of password-reset and verification events. */
  secrets: SubgraphSecrets;
  /** The storefront's base URL (STORE_URL): every link is built from it. */
  storeUrl: string;
  /** Addresses that get staff messages besides every admin (STAFF_ALERT_EMAILS). */
  staffAlertEmails: readonly string[];
}

/** A sealed token that does not open cannot become a link; retrying will not help until the secret is fixed. */
function openToken(deps: NotificationHandlerDeps, sealed: string, event: EventEnvelope): string {
  const token = openFromServices(deps.secrets, sealed);
  if (token === null) {
    throw new Error(
      `the token of ${event.type} ${event.id} does not open with this deployment's subgraph secret`,
    );
  }
  return token;
}

/**
 * Account mail goes to the address and name the event gives: after an email change the new
 * address is not a contact's yet.
 */
const queueAccountMail = (
  trx: Transaction<Database>,
  event: EventEnvelope<"PasswordResetRequested" | "EmailVerificationRequested" | "PasswordChanged">,
  message: QueueRequest["message"],
) =>
  queueMessage(trx, {
    eventId: event.id,
    cause: event.id,
    recipient: { kind: "user", userId: event.payload.userId, email: event.payload.email },
    name: event.payload.name,
    message,
  });

/**
 * The handlers, each run in the transaction that records the event id (startEventConsumer), so
 * the contact projection and every delivery an event causes commit with it, once.
 */
export function notificationHandlers(deps: NotificationHandlerDeps): EventHandlers<Database> {
  const { storeUrl } = deps;
  return {
    UserRegistered: async (trx, event) => {
      await upsertContact(trx, event.payload.user, new Date(event.occurredAt));
    },
    UserChanged: async (trx, event) => {
      await upsertContact(trx, event.payload.user, new Date(event.occurredAt));
    },
    UserDeleted: async (trx, event) => {
      const { userId } = event.payload;
      await tombstoneContact(trx, userId, new Date(event.occurredAt));
      await forgetRecipient(trx, userId);
      await deletePreferencesOf(trx, userId);
    },

    PasswordResetRequested: async (trx, event) => {
      const { payload } = event;
      const token = openToken(deps, payload.sealedToken, event);
      const resetUrl = storeLink(storeUrl, "reset-password", { token });
      await queueAccountMail(trx, event, (name) => ({
        type: "PASSWORD_RESET",
        data: { name, resetUrl, expiresAt: payload.expiresAt, purpose: payload.purpose },
      }));
    },
    EmailVerificationRequested: async (trx, event) => {
      const { payload } = event;
      const token = openToken(deps, payload.sealedToken, event);
      const verifyUrl = storeLink(storeUrl, "verify-email", { token });
      await queueAccountMail(trx, event, (name) => ({
        type: "EMAIL_VERIFICATION",
        data: { name, verifyUrl, expiresAt: payload.expiresAt },
      }));
    },
    PasswordChanged: async (trx, event) => {
      const { payload } = event;
      const resetRequestUrl = storeLink(storeUrl, "forgot-password");
      await queueAccountMail(trx, event, (name) => ({
        type: "PASSWORD_CHANGED",
        data: { name, via: payload.via, resetRequestUrl },
      }));
    },

    OrderStatusChanged: async (trx, event) => {
      const { payload } = event;
      if (orderStatusMessage(payload, "", storeUrl) === null) return;
      const recipient = payload.customerId
        ? ({ kind: "user", userId: payload.customerId } as const)
        : payload.guestEmail
          ? ({ kind: "address", email: payload.guestEmail } as const)
          : null;
      if (recipient === null) return;
      await queueMessage(trx, {
        eventId: event.id,
        cause: event.id,
        recipient,
        // A guest is greeted by the name on the shipping address.
        ...(recipient.kind === "address" ? { name: payload.order.shippingAddress?.name ?? "" } : {}),
        message: (name) =>
          orderStatusMessage(payload, name, storeUrl) as NonNullable<ReturnType<typeof orderStatusMessage>>,
      });
    },
    OrderRefunded: async (trx, event) => {
      const { payload } = event;
      // An imported return happened long ago; its customer heard of it then.
      if (payload.historical || !payload.customerId) return;
      await queueMessage(trx, {
        eventId: event.id,
        cause: event.id,
        recipient: { kind: "user", userId: payload.customerId },
        message: (name) => refundMessage(payload, name, storeUrl),
      });
    },
    WishlistItemBackInStock: async (trx, event) => {
      const { payload } = event;
      await queueMessage(trx, {
        eventId: event.id,
        cause: event.id,
        recipient: { kind: "user", userId: payload.customerId },
        message: (name) => backInStockMessage(payload, name, storeUrl),
      });
    },
    StockLow: async (trx, event) => {
      await queueStaffMessage(
        trx,
        { eventId: event.id, cause: event.id, message: () => lowStockMessage(event.payload, storeUrl) },
        deps.staffAlertEmails,
      );
    },
  };
}

export interface NotificationsConsumerOptions extends NotificationHandlerDeps {
  db: Kysely<Database>;
  redis: EventConsumerOptions<Database>["redis"];
  prefix: string;
  logger: Logger;
  concurrency: number;
  /** Most events applied in one transaction (EVENT_BATCH_SIZE). */
  batchSize?: number;
  /** Called once an event's deliveries are committed: wakes the sender, so email leaves at once. */
  onQueued: () => void;
  /** The subgraph's metrics: queue depth and event lag. */
  metrics?: EventConsumerOptions<Database>["metrics"];
}

/** Consumes the `events.notifications` queue. */
export function startNotificationsConsumer(options: NotificationsConsumerOptions): EventConsumer {
  return startEventConsumer({
    consumer: "notifications",
    db: options.db,
    redis: options.redis,
    prefix: options.prefix,
    logger: options.logger,
    concurrency: options.concurrency,
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    handlers: notificationHandlers(options),
    afterCommit: async () => options.onQueued(),
    metrics: options.metrics,
  });
}
