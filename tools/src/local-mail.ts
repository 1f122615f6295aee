import { relative } from "node:path";
import { type CaughtMail, type MailCatcher, startMailCatcher } from "@nexus/mail";

/** The local mail catcher's port unless MAIL_CATCHER_PORT says otherwise (1025: the usual dev SMTP port). */
export const DEFAULT_MAIL_CATCHER_PORT = 1025;

/** The catcher could not listen: the message says what to do about it. */
export class MailCatcherUnavailableError extends Error {
  override name = "MailCatcherUnavailableError";
}

/**
 * Starts the mail catcher `pnpm start` hands its services as SMTP_URL: it accepts mail on a
 * loopback port and writes each message as an `.eml` file into `dir`, calling `onMail` with a
 * one-line description of each. A taken port fails with the ways out rather than quietly moving
 * to another port a developer would not know to look at.
 */
export async function startLocalMail(options: {
  dir: string;
  port: number;
  /** Paths in the printed lines are relative to it. */
  root: string;
  onMail: (line: string) => void;
}): Promise<MailCatcher> {
  try {
    return await startMailCatcher({
      dir: options.dir,
      port: options.port,
      onMail: (mail) => options.onMail(describeMail(mail, options.root)),
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "EADDRINUSE" || code === "EACCES") {
      throw new MailCatcherUnavailableError(
        `port ${options.port} for the local mail catcher is ${code === "EADDRINUSE" ? "in use" : "not allowed"}. ` +
          "Stop what holds it, set MAIL_CATCHER_PORT to a free port, or set SMTP_URL to a mail server of your own.",
      );
    }
    throw error;
  }
}

/** `"Order 3F2A9C1E confirmed" to ada@example.test  .nexus/mail/2026-...-1.eml` */
export function describeMail(mail: CaughtMail, root: string): string {
  const subject = mail.subject.replace(/\s+/g, " ").trim() || "(no subject)";
  const to = mail.to.join(", ") || "(no recipient)";
  const file = mail.file === null ? "" : `  ${relative(root, mail.file)}`;
  return `"${subject}" to ${to}${file}`;
}

/**
 * Where the services' mail goes, for the start banner: the catcher's folder and port, or the
 * host of SMTP_URL (never its credentials).
 */
export function mailDestination(
  catcher: { url: string; dir: string; root: string } | null,
  smtpUrl: string | undefined,
): string {
  if (catcher) {
    const { host } = new URL(catcher.url);
    const dir = relative(catcher.root, catcher.dir) || ".";
    return `${dir}/ (SMTP ${host})`;
  }
  try {
    const url = new URL(smtpUrl ?? "");
    return `SMTP_URL (${url.protocol}//${url.host})`;
  } catch {
    return "SMTP_URL";
  }
}
