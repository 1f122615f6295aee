import { createTransport } from "nodemailer";

/** One message to send. `from` defaults to the transport's sender. */
export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  from?: string;
  /** Extra headers, e.g. `X-Nexus-Idempotency-Key`. */
  headers?: Record<string, string>;
}

export interface SentMail {
  /** The Message-ID the message was sent with. */
  messageId: string;
  /** The server's final reply, e.g. `250 OK: queued as ...`. */
  response: string;
}

export interface MailTransport {
  send(mail: OutgoingMail): Promise<SentMail>;
  /** Connects and greets the server: fails when nothing answers at the URL. */
  verify(): Promise<void>;
  close(): void;
}

/**
 * An SMTP transport (nodemailer) for `smtp://` or `smtps://` URLs, with credentials in the URL
 * when the server wants them. Pooled, so a busy worker reuses connections. A rejected message
 * throws, with nodemailer's `responseCode` on the error (4xx: worth retrying; 5xx: permanent).
 */
export function createMailTransport(options: {
  url: string;
  from: string;
  timeoutMs?: number;
}): MailTransport {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const transport = createTransport({
    url: options.url,
    pool: true,
    maxConnections: 4,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  return {
    async send(mail) {
      const info = await transport.sendMail({
        from: mail.from ?? options.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        headers: mail.headers,
      });
      return { messageId: info.messageId, response: info.response };
    },
    async verify() {
      await transport.verify();
    },
    close: () => transport.close(),
  };
}
