import { mkdir, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

/** A message the catcher accepted, parsed. */
export interface CaughtMail {
  /** The `Message-ID` header the sender gave. */
  messageId: string | null;
  from: string;
  /** Every envelope recipient (RCPT TO), lower-cased. */
  to: string[];
  subject: string;
  text: string;
  html: string | null;
  headers: Map<string, unknown>;
  /** The `.eml` file it was written to, when the catcher writes files. */
  file: string | null;
  receivedAt: Date;
}

export interface MailCatcherOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** When set, each message is also written there as `<time>-<n>.eml`. */
  dir?: string;
  /** Called for every message once it is stored. */
  onMail?: (mail: CaughtMail) => void;
}

export interface MailCatcher {
  /** `smtp://host:port`, for SMTP_URL. */
  url: string;
  /** Every message received so far, oldest first. */
  messages(): readonly CaughtMail[];
  /** Resolves with the first message (already received or still to come) that matches. */
  waitFor(match: (mail: CaughtMail) => boolean, timeoutMs?: number): Promise<CaughtMail>;
  stop(): Promise<void>;
}

/** Largest message accepted: far above any Nexus message, small enough to never hurt a laptop. */
const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/**
 * A local SMTP server that accepts every message on a loopback port and keeps it: in memory for
 * tests (`messages`, `waitFor`) and, with `dir`, as `.eml` files a developer opens in any mail
 * client. For `pnpm start` and tests only: no TLS, no authentication, nothing relayed.
 */
export async function startMailCatcher(options: MailCatcherOptions = {}): Promise<MailCatcher> {
  const received: CaughtMail[] = [];
  const waiters = new Set<{ match: (mail: CaughtMail) => boolean; resolve: (mail: CaughtMail) => void }>();
  let sequence = 0;
  if (options.dir) await mkdir(options.dir, { recursive: true });

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    size: MAX_MESSAGE_BYTES,
    logger: false,
    banner: "Nexus mail catcher",
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", callback);
      stream.on("end", () => {
        if ((stream as { sizeExceeded?: boolean }).sizeExceeded) {
          callback(Object.assign(new Error("Message too large"), { responseCode: 552 }));
          return;
        }
        const raw = Buffer.concat(chunks);
        const to = session.envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase());
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
        // Accepted once it is on disk, as a mail server accepts once it has queued; parsing for
        // `messages` and `waitFor` follows, so a sender's latency does not include it.
        write(raw).then(
          (file) => {
            callback();
            void keep(raw, from, to, file);
          },
          (error: Error) => callback(error),
        );
      });
    },
  });

  async function write(raw: Buffer): Promise<string | null> {
    if (!options.dir) return null;
    sequence += 1;
    const file = join(options.dir, `${new Date().toISOString().replace(/[:.]/g, "-")}-${sequence}.eml`);
    await writeFile(file, raw);
    return file;
  }

  async function keep(raw: Buffer, from: string, to: string[], file: string | null): Promise<void> {
    const receivedAt = new Date();
    let parsed: ParsedMail;
    try {
      parsed = await simpleParser(raw);
    } catch {
      // Accepted and on disk (when there is a dir); only the in-memory copy is missing.
      return;
    }
    const mail = toCaughtMail(parsed, { from, to, file, receivedAt });
    received.push(mail);
    // Before the waiters: what `onMail` does with the message is done when a waiter sees it.
    options.onMail?.(mail);
    for (const waiter of waiters) {
      if (waiter.match(mail)) {
        waiters.delete(waiter);
        waiter.resolve(mail);
      }
    }
  }

  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = (server.server as unknown as { address(): AddressInfo }).address();

  return {
    url: `smtp://${host}:${port}`,
    messages: () => received,
    waitFor(match, timeoutMs = 10_000) {
      const found = received.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = {
          match,
          resolve: (mail: CaughtMail) => {
            clearTimeout(timer);
            resolve(mail);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching mail within ${timeoutMs} ms (${received.length} received)`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Parses an `.eml` file's bytes, e.g. one the catcher wrote to `.nexus/mail/`. */
export async function parseEml(raw: Buffer | string, file: string | null = null): Promise<CaughtMail> {
  const parsed = await simpleParser(raw);
  const to = addressesOf(parsed.to);
  const from = addressesOf(parsed.from)[0] ?? "";
  return toCaughtMail(parsed, { from, to, file, receivedAt: parsed.date ?? new Date(0) });
}

function toCaughtMail(
  parsed: ParsedMail,
  envelope: { from: string; to: string[]; file: string | null; receivedAt: Date },
): CaughtMail {
  return {
    messageId: parsed.messageId ?? null,
    from: envelope.from,
    to: envelope.to,
    subject: parsed.subject ?? "",
    text: parsed.text ?? "",
    html: typeof parsed.html === "string" ? parsed.html : null,
    headers: parsed.headers,
    file: envelope.file,
    receivedAt: envelope.receivedAt,
  };
}

function addressesOf(field: ParsedMail["to"] | ParsedMail["from"]): string[] {
  if (!field) return [];
  const objects = Array.isArray(field) ? field : [field];
  return objects.flatMap((object) =>
    object.value.flatMap((entry) => (entry.address ? [entry.address.toLowerCase()] : [])),
  );
}
