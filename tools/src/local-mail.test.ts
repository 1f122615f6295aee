import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMailTransport } from "@nexus/mail";
import { afterEach, describe, expect, it } from "vitest";
import { MailCatcherUnavailableError, mailDestination, startLocalMail } from "./local-mail.ts";

let root: string | null = null;

afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
  root = null;
});

async function freshRoot(): Promise<string> {
  root = await mkdtemp(join(tmpdir(), "nexus-start-mail-"));
  return root;
}

describe("the local mail of pnpm start", () => {
  it("writes each message into .nexus/mail/ and announces its subject, recipient and file on one line", async () => {
    const repo = await freshRoot();
    const dir = join(repo, ".nexus", "mail");
    const lines: string[] = [];
    const catcher = await startLocalMail({ dir, port: 0, root: repo, onMail: (line) => lines.push(line) });
    const transport = createMailTransport({ url: catcher.url, from: "store@nexus.test" });
    try {
      await transport.send({
        to: "Ada@Example.test",
        subject: "Reset your\n Nexus password",
        text: "The link.",
        html: "<p>The link.</p>",
      });
      await catcher.waitFor(() => lines.length === 1);
      const files = await readdir(dir);
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/\.eml$/);
      expect(lines).toEqual([`"Reset your Nexus password" to ada@example.test  .nexus/mail/${files[0]}`]);
      expect(mailDestination({ url: catcher.url, dir, root: repo }, undefined)).toMatch(
        /^\.nexus\/mail\/ \(SMTP 127\.0\.0\.1:\d+\)$/,
      );
    } finally {
      transport.close();
      await catcher.stop();
    }
  });

  it("fails with what to do when the port is taken", async () => {
    const repo = await freshRoot();
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const { port } = holder.address() as { port: number };
    try {
      const started = startLocalMail({ dir: join(repo, "mail"), port, root: repo, onMail: () => {} });
      await expect(started).rejects.toThrow(MailCatcherUnavailableError);
      await expect(started).rejects.toThrow(
        new RegExp(`port ${port} for the local mail catcher is in use.*MAIL_CATCHER_PORT.*SMTP_URL`),
      );
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  it("names a configured SMTP_URL by host only, never its credentials", () => {
    expect(mailDestination(null, "smtps://user:secret@mail.example.com:465")).toBe(
      "SMTP_URL (smtps://mail.example.com:465)",
    );
    expect(mailDestination(null, "not a url")).toBe("SMTP_URL");
  });
});
