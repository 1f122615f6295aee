import { formatDateTime, oneLine, truncate } from "../format.ts";
import type { Composed } from "../layout.ts";
import type { MessageData, StoreInfo } from "../message-types.ts";

/** An error is kept whole up to this many characters: enough for a message and a short stack. */
const MAX_ERROR = 4000;

export function lowStock(data: MessageData["LOW_STOCK"], store: StoreInfo): Composed {
  const product = oneLine(data.sku ?? data.productId);
  const short = truncate(product, 60);
  return {
    subject: `Low stock: ${short} (${data.available} available)`,
    summary: `Low stock: ${short} has ${data.available} available (threshold ${data.threshold}).`,
    greetingName: null,
    blocks: [
      { kind: "heading", text: "Low stock" },
      {
        kind: "paragraph",
        parts: [
          `A product's available stock at ${oneLine(store.name)} is at or below its low-stock threshold.`,
        ],
      },
      {
        kind: "facts",
        rows: [
          ...(data.sku === null ? [] : [{ label: "SKU", value: data.sku }]),
          { label: "Product id", value: data.productId },
          { label: "Available", value: String(data.available) },
          { label: "Threshold", value: String(data.threshold) },
        ],
      },
      { kind: "button", label: "Open in the admin", url: data.adminUrl },
    ],
  };
}

export function eventFailed(data: MessageData["EVENT_FAILED"], _store: StoreInfo): Composed {
  const eventType = oneLine(data.eventType);
  const consumer = oneLine(data.consumer);
  return {
    subject: `Event failed: ${truncate(eventType, 60)} in ${truncate(consumer, 40)}`,
    summary: `${truncate(consumer, 40)} gave up on ${truncate(eventType, 60)} ${oneLine(data.eventId)} after ${data.attempts} attempts.`,
    greetingName: null,
    blocks: [
      { kind: "heading", text: "An event failed" },
      {
        kind: "paragraph",
        parts: [
          "A consumer gave up on an event after its last attempt. The event waits in the failed set: retry it once the cause is fixed.",
        ],
      },
      {
        kind: "facts",
        rows: [
          { label: "Consumer", value: consumer },
          { label: "Event type", value: eventType },
          { label: "Event id", value: data.eventId },
          { label: "Attempts", value: String(data.attempts) },
          { label: "Failed at", value: formatDateTime(data.failedAt) },
        ],
      },
      { kind: "paragraph", parts: ["The last error:"] },
      { kind: "preformatted", text: truncate(data.error, MAX_ERROR) },
      { kind: "button", label: "Open the failed events", url: data.adminUrl },
    ],
  };
}
