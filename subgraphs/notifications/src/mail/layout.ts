import type { Address } from "@nexus/core";
import { addressLines, escapeHtml, flatten, formatMoney, oneLine, safeUrl } from "./format.ts";
import type { StoreInfo } from "./message-types.ts";

/**
 * A message body as blocks, which `renderHtml` and `renderText` both lay out: the HTML and the
 * plain-text alternative are made from the same facts, so they cannot disagree. Every string in
 * a block is raw text; the renderers escape it.
 */
export type Block =
  | { kind: "heading"; text: string }
  | { kind: "paragraph"; parts: Inline[] }
  /** The message's call to action. Left out, with its fallback address, when the URL is not http(s). */
  | { kind: "button"; label: string; url: string | null }
  /** Label and value pairs, e.g. an order number and when it was placed. */
  | { kind: "facts"; rows: { label: string; value: string }[] }
  | { kind: "lines"; currencyCode: string; lines: ItemLine[]; totals: { label: string; amount: number }[] }
  | { kind: "address"; title: string; address: Address }
  /** Links, one per item; an item whose URL is not http(s) is shown as text. */
  | { kind: "links"; items: { label: string; url: string }[] }
  /** Text kept as it is, line breaks and all (an error message), in a monospaced box. */
  | { kind: "preformatted"; text: string }
  | { kind: "note"; parts: Inline[] };

/** A run of text in a paragraph: plain, emphasised, or a link (shown as text when not http(s)). */
export type Inline = string | { strong: string } | { link: string; label: string };

export interface ItemLine {
  name: string;
  quantity: number;
  unitPrice: number;
}

export interface Composed {
  subject: string;
  summary: string;
  /** Null for staff messages: they greet nobody and do not point to customer support. */
  greetingName: string | null;
  blocks: Block[];
}

const FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
const MONO = "SFMono-Regular,Menlo,Consolas,'Liberation Mono',monospace";
const INK = "#18181b";
const MUTED = "#71717a";
const RULE = "#e4e4e7";
const PAGE = "#f4f4f5";

/** The footer's last line: customers are told where to ask, staff why they got it. */
function footerNote(message: Composed, store: StoreInfo): string {
  return message.greetingName === null
    ? `Sent to the staff of ${oneLine(store.name)}.`
    : `Questions? Write to ${oneLine(store.supportEmail)}.`;
}

/** The blocks with "Hello <name>," after the opening heading (staff messages greet nobody). */
function withGreeting(message: Composed): Block[] {
  if (message.greetingName === null) return message.blocks;
  const name = oneLine(message.greetingName);
  const hello: Block = { kind: "paragraph", parts: [name === "" ? "Hello," : `Hello ${name},`] };
  const [first, ...rest] = message.blocks;
  if (first?.kind === "heading") return [first, hello, ...rest];
  return [hello, ...message.blocks];
}

// ---------------------------------------------------------------------------------------------
// HTML: tables and inline styles only, 600 px wide, no image, font or stylesheet to fetch, so it
// looks the same in Outlook, Gmail and a client that blocks remote content.

function inlineHtml(parts: Inline[]): string {
  return parts
    .map((part) => {
      if (typeof part === "string") return escapeHtml(flatten(part));
      if ("strong" in part) return `<strong>${escapeHtml(flatten(part.strong))}</strong>`;
      const href = safeUrl(part.link);
      if (!href) return escapeHtml(flatten(part.label));
      return `<a href="${escapeHtml(href)}" style="color:${INK};text-decoration:underline;">${escapeHtml(flatten(part.label))}</a>`;
    })
    .join("");
}

function itemLineHtml(line: ItemLine, currencyCode: string): string {
  const each =
    line.quantity === 1
      ? ""
      : `<br><span style="font-size:13px;color:${MUTED};">${escapeHtml(formatMoney(line.unitPrice, currencyCode))} each</span>`;
  return `<tr>
<td style="padding:8px 0;border-bottom:1px solid ${RULE};vertical-align:top;">${escapeHtml(oneLine(line.name))}${each}</td>
<td align="right" style="padding:8px 0 8px 12px;border-bottom:1px solid ${RULE};vertical-align:top;white-space:nowrap;">${line.quantity}</td>
<td align="right" style="padding:8px 0 8px 12px;border-bottom:1px solid ${RULE};vertical-align:top;white-space:nowrap;">${escapeHtml(formatMoney(line.unitPrice * line.quantity, currencyCode))}</td>
</tr>`;
}

function blockHtml(block: Block): string {
  switch (block.kind) {
    case "heading":
      return `<h1 style="margin:0 0 16px;font-family:${FONT};font-size:22px;line-height:30px;font-weight:bold;color:${INK};">${escapeHtml(oneLine(block.text))}</h1>`;
    case "paragraph":
      return `<p style="margin:0 0 16px;">${inlineHtml(block.parts)}</p>`;
    case "note":
      return `<p style="margin:0 0 16px;font-size:13px;line-height:20px;color:${MUTED};">${inlineHtml(block.parts)}</p>`;
    case "button": {
      const href = safeUrl(block.url);
      if (!href) return "";
      const link = escapeHtml(href);
      return `<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:8px 0 16px;">
<tr><td bgcolor="${INK}" style="border-radius:4px;background-color:${INK};">
<a href="${link}" style="display:inline-block;padding:12px 24px;font-family:${FONT};font-size:16px;font-weight:bold;color:#ffffff;text-decoration:none;border-radius:4px;">${escapeHtml(block.label)}</a>
</td></tr></table>
<p style="margin:0 0 16px;font-size:13px;line-height:20px;color:${MUTED};">If the button does not work, copy this address into your browser:<br><a href="${link}" style="color:${MUTED};word-break:break-all;">${link}</a></p>`;
    }
    case "facts":
      return `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin:0 0 16px;">
${block.rows
  .map(
    (row) =>
      `<tr><td style="padding:4px 12px 4px 0;color:${MUTED};vertical-align:top;white-space:nowrap;">${escapeHtml(row.label)}</td><td style="padding:4px 0;vertical-align:top;word-break:break-word;">${escapeHtml(oneLine(row.value))}</td></tr>`,
  )
  .join("\n")}
</table>`;
    case "lines":
      return `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin:0 0 16px;">
<tr>
<th align="left" style="padding:0 0 8px;border-bottom:1px solid ${RULE};font-size:13px;color:${MUTED};font-weight:normal;">Item</th>
<th align="right" style="padding:0 0 8px 12px;border-bottom:1px solid ${RULE};font-size:13px;color:${MUTED};font-weight:normal;">Qty</th>
<th align="right" style="padding:0 0 8px 12px;border-bottom:1px solid ${RULE};font-size:13px;color:${MUTED};font-weight:normal;">Price</th>
</tr>
${block.lines.map((line) => itemLineHtml(line, block.currencyCode)).join("\n")}
${block.totals
  .map(
    (total) =>
      `<tr><td colspan="2" align="right" style="padding:8px 0 0;font-weight:bold;">${escapeHtml(total.label)}</td><td align="right" style="padding:8px 0 0 12px;font-weight:bold;white-space:nowrap;">${escapeHtml(formatMoney(total.amount, block.currencyCode))}</td></tr>`,
  )
  .join("\n")}
</table>`;
    case "address":
      return `<p style="margin:0 0 4px;font-size:13px;color:${MUTED};">${escapeHtml(block.title)}</p>
<p style="margin:0 0 16px;">${addressLines(block.address).map(escapeHtml).join("<br>")}</p>`;
    case "links":
      return `<ul style="margin:0 0 16px;padding:0 0 0 20px;">
${block.items
  .map(
    (item) =>
      `<li style="margin:0 0 8px;">${inlineHtml([{ link: item.url, label: oneLine(item.label) }])}</li>`,
  )
  .join("\n")}
</ul>`;
    case "preformatted":
      return `<pre style="margin:0 0 16px;padding:12px;background-color:${PAGE};border:1px solid ${RULE};font-family:${MONO};font-size:13px;line-height:18px;white-space:pre-wrap;word-break:break-word;">${escapeHtml(block.text)}</pre>`;
  }
}

export function renderHtml(message: Composed, store: StoreInfo): string {
  const storeName = escapeHtml(oneLine(store.name));
  const storeUrl = safeUrl(store.url);
  const masthead = storeUrl
    ? `<a href="${escapeHtml(storeUrl)}" style="color:${INK};text-decoration:none;">${storeName}</a>`
    : storeName;
  const body = withGreeting(message)
    .map(blockHtml)
    .filter((html) => html !== "")
    .join("\n");
  const footer = [
    storeUrl ? `<a href="${escapeHtml(storeUrl)}" style="color:${MUTED};">${storeName}</a>` : storeName,
    escapeHtml(footerNote(message, store)),
  ].join("<br>");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<meta name="color-scheme" content="light">
<title>${escapeHtml(message.subject)}</title>
</head>
<body style="margin:0;padding:0;background-color:${PAGE};">
<div style="display:none;max-height:0;overflow:hidden;opacity:0;mso-hide:all;">${escapeHtml(message.summary)}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="${PAGE}" style="background-color:${PAGE};">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" bgcolor="#ffffff" style="width:100%;max-width:600px;background-color:#ffffff;border:1px solid ${RULE};">
<tr><td style="padding:24px 32px;border-bottom:1px solid ${RULE};font-family:${FONT};font-size:20px;line-height:28px;font-weight:bold;color:${INK};">${masthead}</td></tr>
<tr><td style="padding:32px;font-family:${FONT};font-size:16px;line-height:24px;color:${INK};">
${body}
</td></tr>
<tr><td style="padding:20px 32px;border-top:1px solid ${RULE};font-family:${FONT};font-size:13px;line-height:20px;color:${MUTED};">${footer}</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
`;
}

// ---------------------------------------------------------------------------------------------
// Plain text: what a text-only client shows, read on its own. Links are written out in full.

function inlineText(parts: Inline[]): string {
  return parts
    .map((part) => {
      if (typeof part === "string") return flatten(part);
      if ("strong" in part) return flatten(part.strong);
      const href = safeUrl(part.link);
      return href ? `${flatten(part.label)} (${href})` : flatten(part.label);
    })
    .join("");
}

function blockText(block: Block): string {
  switch (block.kind) {
    case "heading":
      return `${oneLine(block.text)}\n${"=".repeat(Math.min(Array.from(oneLine(block.text)).length, 72))}`;
    case "paragraph":
    case "note":
      return inlineText(block.parts);
    case "button": {
      const href = safeUrl(block.url);
      return href ? `${block.label}:\n${href}` : "";
    }
    case "facts":
      return block.rows.map((row) => `${row.label}: ${oneLine(row.value)}`).join("\n");
    case "lines": {
      const lines = block.lines.map((line) => {
        const total = formatMoney(line.unitPrice * line.quantity, block.currencyCode);
        const each = line.quantity === 1 ? "" : ` (${formatMoney(line.unitPrice, block.currencyCode)} each)`;
        return `- ${line.quantity} x ${oneLine(line.name)}: ${total}${each}`;
      });
      const totals = block.totals.map(
        (total) => `${total.label}: ${formatMoney(total.amount, block.currencyCode)}`,
      );
      return [...lines, "", ...totals].join("\n");
    }
    case "address":
      return [`${block.title}:`, ...addressLines(block.address).map((line) => `  ${line}`)].join("\n");
    case "links":
      return block.items
        .map((item) => {
          const href = safeUrl(item.url);
          return href ? `- ${oneLine(item.label)}: ${href}` : `- ${oneLine(item.label)}`;
        })
        .join("\n");
    case "preformatted":
      return block.text
        .split(/\r?\n/)
        .map((line) => `    ${line}`)
        .join("\n");
  }
}

export function renderText(message: Composed, store: StoreInfo): string {
  const storeUrl = safeUrl(store.url);
  const sections = [oneLine(store.name), ...withGreeting(message).map(blockText)];
  const footer = [
    "-- ",
    storeUrl ? `${oneLine(store.name)}: ${storeUrl}` : oneLine(store.name),
    footerNote(message, store),
  ].join("\n");
  return `${sections.filter((section) => section !== "").join("\n\n")}\n\n${footer}\n`;
}
