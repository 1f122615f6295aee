import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MailCatcher, parseEml, startMailCatcher } from "./catcher.ts";
import { createMailTransport, type MailTransport } from "./transport.ts";

let dir: string;
let catcher: MailCatcher;
let transport: MailTransport;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "nexus-mail-"));
  catcher = await startMailCatcher({ dir });
  transport = createMailTransport({ url: catcher.url, from: "Nexus Store <store@nexus.test>" });
});

afterAll(async () => {
  transport.close();
  await catcher.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("mail over real SMTP", () => {
  it("delivers HTML and text to the catcher, which writes an .eml file", async () => {
    const sent = await transport.send({
      to: "Ada@Example.test",
      subject: "Your order is confirmed — Ünïcode",
      text: "Thanks, Ada.",
      html: "<p>Thanks, <b>Ada</b>.</p>",
      headers: { "X-Nexus-Idempotency-Key": "event-1:user-1" },
    });
    expect(sent.messageId).toMatch(/^<.+>$/);
    expect(sent.response).toMatch(/^250/);

    const mail = await catcher.waitFor((m) => m.messageId === sent.messageId);
    expect(mail.to).toEqual(["ada@example.test"]);
    expect(mail.from).toBe("store@nexus.test");
    expect(mail.subject).toBe("Your order is confirmed — Ünïcode");
    expect(mail.text.trim()).toBe("Thanks, Ada.");
    expect(mail.html).toContain("<b>Ada</b>");
    expect(mail.headers.get("x-nexus-idempotency-key")).toBe("event-1:user-1");

    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    expect(mail.file).toBe(join(dir, files[0] as string));
    const fromFile = await parseEml(await readFile(mail.file as string), mail.file);
    expect(fromFile.subject).toBe(mail.subject);
    expect(fromFile.to).toEqual(["ada@example.test"]);
  });

  it("waitFor rejects when nothing matching arrives", async () => {
    await expect(catcher.waitFor((m) => m.subject === "never", 50)).rejects.toThrow(/no matching mail/);
  });

  it("a transport pointed at a closed port fails to verify", async () => {
    const nowhere = createMailTransport({ url: "smtp://127.0.0.1:9", from: "x@nexus.test", timeoutMs: 2000 });
    await expect(nowhere.verify()).rejects.toThrow();
    nowhere.close();
  });
});
