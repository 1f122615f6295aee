import type { Message, RenderedMessage, StoreInfo } from "./message-types.ts";

/**
 * Renders a message for email and the inbox. CONTRACT PLACEHOLDER: the templates replace this
 * file; it exists so the rest of the service can be built against the signature.
 */
export function renderMessage(message: Message, store: StoreInfo): RenderedMessage {
  const subject = `${store.name}: ${message.type}`;
  const text = JSON.stringify(message.data, null, 2);
  return { subject, html: `<pre>${text.replace(/</g, "&lt;")}</pre>`, text, summary: subject };
}
