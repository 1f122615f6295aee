import type { OrderSnapshot } from "@nexus/events";
import { createMailTransport, startMailCatcher } from "@nexus/mail";
import { describe, expect, it } from "vitest";
import { formatDateTime, formatMoney, minorUnitDigits, safeUrl } from "./format.ts";
import {
  MESSAGE_TYPES,
  type Message,
  type MessageData,
  type MessageType,
  type StoreInfo,
} from "./message-types.ts";
import { renderMessage } from "./render.ts";

const store: StoreInfo = {
  name: "Nexus Store",
  url: "https://shop.example",
  supportEmail: "help@shop.example",
};
const ORDER_ID = "3f2a9c1e-1111-4222-8333-444455556666";

const order = (overrides: Partial<OrderSnapshot> = {}): OrderSnapshot => ({
  currencyCode: "EUR",
  total: 4597,
  placedAt: "2026-12-03T16:20:00.000Z",
  lines: [
    { productId: "p-mug", productName: "Blue mug", quantity: 2, unitPrice: 1299 },
    { productId: "p-tea", productName: "Green tea", quantity: 1, unitPrice: 1999 },
  ],
  shippingAddress: {
    name: "Ada Lovelace",
    line1: "12 St James's Square",
    line2: "Flat 3",
    city: "London",
    region: null,
    postalCode: "SW1Y 4JH",
    countryCode: "GB",
  },
  ...overrides,
});

const data: { [T in MessageType]: MessageData[T] } = {
  EMAIL_VERIFICATION: {
    name: "Ada",
    verifyUrl: "https://shop.example/verify?token=v-123",
    expiresAt: "2026-12-04T16:20:00.000Z",
  },
  PASSWORD_RESET: {
    name: "Ada",
    resetUrl: "https://shop.example/reset?token=r-456",
    expiresAt: "2026-12-03T16:50:00.000Z",
    purpose: "reset",
  },
  PASSWORD_CHANGED: { name: "Ada", via: "reset", resetRequestUrl: "https://shop.example/forgot-password" },
  ORDER_CONFIRMED: {
    name: "Ada",
    orderId: ORDER_ID,
    orderUrl: "https://shop.example/orders/3f2a",
    order: order(),
  },
  ORDER_REJECTED: {
    name: "Ada",
    orderId: ORDER_ID,
    reason: "payment declined: card_declined",
    linesReturnedToCart: true,
    cartUrl: "https://shop.example/cart",
    order: order(),
  },
  ORDER_CANCELLED: {
    name: "Ada",
    orderId: ORDER_ID,
    reason: "cancelled by the customer",
    orderUrl: "https://shop.example/orders/3f2a",
    order: order(),
  },
  ORDER_SHIPPED: {
    name: "Ada",
    orderId: ORDER_ID,
    trackingNumber: "1Z999AA10123456784",
    orderUrl: "https://shop.example/orders/3f2a",
    order: order(),
  },
  ORDER_DELIVERED: {
    name: "Ada",
    orderId: ORDER_ID,
    orderUrl: "https://shop.example/orders/3f2a",
    order: order(),
    reviewUrls: [
      { productId: "p-mug", productName: "Blue mug", url: "https://shop.example/products/p-mug#review" },
      { productId: "p-tea", productName: "Green tea", url: "https://shop.example/products/p-tea#review" },
    ],
  },
  REFUND_ISSUED: {
    name: "Ada",
    orderId: ORDER_ID,
    currencyCode: "EUR",
    amount: 1299,
    lines: [{ productId: "p-mug", productName: "Blue mug", quantity: 1, unitPrice: 1299 }],
    reason: "arrived broken",
    orderUrl: "https://shop.example/orders/3f2a",
  },
  BACK_IN_STOCK: {
    name: "Ada",
    productId: "p-mug",
    productName: "Blue mug",
    productUrl: "https://shop.example/products/p-mug",
  },
  LOW_STOCK: {
    productId: "p-mug",
    sku: "MUG-BLUE",
    available: 3,
    threshold: 5,
    adminUrl: "https://admin.shop.example/products/p-mug",
  },
  EVENT_FAILED: {
    consumer: "notifications",
    eventId: "0b9d7c1a-0000-4000-8000-000000000001",
    eventType: "OrderStatusChanged",
    attempts: 8,
    error: "Error: connect ECONNREFUSED 127.0.0.1:1025\n    at TCPConnectWrap.afterConnect",
    failedAt: "2026-12-03T16:21:30.000Z",
    adminUrl: "https://admin.shop.example/events/failed",
  },
};

const message = <T extends MessageType>(type: T, overrides: Partial<MessageData[T]> = {}): Message =>
  ({ type, data: { ...data[type], ...overrides } }) as Message;

/** What a reader of the HTML sees: the body's text, tags gone, entities decoded, spaces collapsed. */
function visibleText(html: string): string {
  return html
    .replace(/<head>[\s\S]*?<\/head>/, "")
    .replace(/<div style="display:none[^>]*>[\s\S]*?<\/div>/, "")
    .replace(/<br>/g, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ");
}

const squash = (text: string) => text.replace(/\s+/g, " ");
const hrefs = (html: string) => [...html.matchAll(/href="([^"]*)"/g)].map((match) => match[1] as string);

/**
 * What each message must say, checked in the plain text and in the HTML alike. Order lines are
 * EUR 12.99 x 2 and 19.99 x 1, 45.97 in all.
 */
const facts: Record<MessageType, (string | [label: string, value: string])[]> = {
  EMAIL_VERIFICATION: [
    "Hello Ada,",
    "Confirm your email address",
    "https://shop.example/verify?token=v-123",
    "4 December 2026, 16:20 UTC",
  ],
  PASSWORD_RESET: [
    "Hello Ada,",
    "reset the password",
    "https://shop.example/reset?token=r-456",
    "3 December 2026, 16:50 UTC",
    "ignore this email",
  ],
  PASSWORD_CHANGED: ["password", "was just changed", "signed out", "https://shop.example/forgot-password"],
  ORDER_CONFIRMED: [
    ["Order number", ORDER_ID],
    "Blue mug",
    "€12.99 each",
    "€25.98",
    "Green tea",
    "€19.99",
    "Total",
    "€45.97",
    "Ada Lovelace",
    "12 St James's Square",
    "Flat 3",
    "London SW1Y 4JH",
    "United Kingdom",
    ["Placed", "3 December 2026, 16:20 UTC"],
    "https://shop.example/orders/3f2a",
  ],
  ORDER_REJECTED: [
    ["Order number", ORDER_ID],
    ["Reason", "payment declined: card_declined"],
    "back in your cart",
    "https://shop.example/cart",
    "Blue mug",
    "€45.97",
  ],
  ORDER_CANCELLED: [
    ORDER_ID,
    "cancelled by the customer",
    "Green tea",
    "€45.97",
    "https://shop.example/orders/3f2a",
  ],
  ORDER_SHIPPED: [
    ORDER_ID,
    "1Z999AA10123456784",
    "Blue mug",
    "London SW1Y 4JH",
    "https://shop.example/orders/3f2a",
  ],
  ORDER_DELIVERED: [
    ORDER_ID,
    "Review Blue mug",
    "https://shop.example/products/p-mug#review",
    "Review Green tea",
    "https://shop.example/products/p-tea#review",
  ],
  REFUND_ISSUED: [
    ORDER_ID,
    "€12.99",
    "Blue mug",
    "arrived broken",
    "Refunded",
    "https://shop.example/orders/3f2a",
  ],
  BACK_IN_STOCK: ["Blue mug", "back in stock", "https://shop.example/products/p-mug"],
  LOW_STOCK: [
    ["SKU", "MUG-BLUE"],
    ["Product id", "p-mug"],
    ["Available", "3"],
    ["Threshold", "5"],
    "https://admin.shop.example/products/p-mug",
  ],
  EVENT_FAILED: [
    "notifications",
    "OrderStatusChanged",
    "0b9d7c1a-0000-4000-8000-000000000001",
    ["Attempts", "8"],
    "ECONNREFUSED 127.0.0.1:1025",
    "3 December 2026, 16:21 UTC",
    "https://admin.shop.example/events/failed",
  ],
};

describe("renderMessage: every message type", () => {
  it("has a fixture and facts for every type", () => {
    expect(Object.keys(data).sort()).toEqual([...MESSAGE_TYPES].sort());
    expect(Object.keys(facts).sort()).toEqual([...MESSAGE_TYPES].sort());
  });

  for (const type of MESSAGE_TYPES) {
    describe(type, () => {
      const rendered = renderMessage(message(type), store);

      it("says its facts in the plain text and in the HTML alike", () => {
        const text = squash(rendered.text);
        const html = visibleText(rendered.html);
        for (const fact of facts[type]) {
          if (Array.isArray(fact)) {
            // A label and its value: "Label: value" in the text, a two-cell table row in the HTML.
            expect(text).toContain(`${fact[0]}: ${fact[1]}`);
            expect(html).toContain(`${fact[0]} ${fact[1]}`);
          } else if (fact.startsWith("https://")) {
            // A link: written out in the text, an href in the HTML.
            expect(text).toContain(fact);
            expect(hrefs(rendered.html)).toContain(fact);
          } else {
            expect(text).toContain(fact);
            expect(html).toContain(fact);
          }
        }
      });

      it("has a one-line subject and summary, and names the store", () => {
        for (const line of [rendered.subject, rendered.summary]) {
          expect(line.length).toBeGreaterThan(10);
          expect(line).not.toMatch(/[\r\n]/);
        }
        expect(rendered.text.startsWith("Nexus Store\n")).toBe(true);
        const footer =
          type === "LOW_STOCK" || type === "EVENT_FAILED"
            ? "Sent to the staff of Nexus Store."
            : "Questions? Write to help@shop.example.";
        expect(rendered.text).toContain(footer);
        expect(visibleText(rendered.html)).toContain(footer);
      });

      it("is a self-contained 600px HTML email: no scripts, no remote assets, only http(s) links", () => {
        expect(rendered.html.startsWith("<!DOCTYPE html>")).toBe(true);
        expect(rendered.html).toContain('width="600"');
        expect(rendered.html).toContain("max-width:600px");
        expect(rendered.html).not.toMatch(/<script|<img|<link|<style|\ssrc=|url\(/i);
        expect(hrefs(rendered.html).length).toBeGreaterThan(0);
        for (const href of hrefs(rendered.html)) expect(href).toMatch(/^https?:\/\//);
      });

      it("renders the same message the same way twice (a retried send sends the same email)", () => {
        expect(renderMessage(message(type), store)).toEqual(rendered);
      });
    });
  }
});

describe("escaping user data", () => {
  const SCRIPT = "<script>alert('x')</script>";
  const ATTRIBUTE = `" onmouseover="alert(1)`;

  it("escapes a <script> customer name and product name in the HTML, keeps them readable in the text", () => {
    const rendered = renderMessage(
      message("ORDER_CONFIRMED", {
        name: `Eve ${SCRIPT}`,
        order: order({
          lines: [
            { productId: "p-x", productName: `Mug ${SCRIPT} ${ATTRIBUTE}`, quantity: 1, unitPrice: 4597 },
          ],
          shippingAddress: {
            ...(order().shippingAddress as NonNullable<OrderSnapshot["shippingAddress"]>),
            name: `Eve <b>bold</b>`,
            line1: "1 <i>Main</i> St",
          },
        }),
      }),
      store,
    );
    expect(rendered.html).not.toContain("<script");
    expect(rendered.html).not.toContain("<b>bold");
    expect(rendered.html).not.toContain("<i>");
    expect(rendered.html).not.toContain('" onmouseover');
    expect(rendered.html).toContain("Eve &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
    expect(rendered.html).toContain("&quot; onmouseover=&quot;alert(1)");
    expect(visibleText(rendered.html)).toContain(`Mug ${SCRIPT} ${ATTRIBUTE}`);
    expect(rendered.text).toContain(`Hello Eve ${SCRIPT},`);
    expect(rendered.text).toContain(`Mug ${SCRIPT} ${ATTRIBUTE}`);
  });

  it("escapes the store's own name and product names in subjects' HTML title", () => {
    const rendered = renderMessage(message("BACK_IN_STOCK", { productName: SCRIPT }), {
      ...store,
      name: "Tom & Jerry's <Shop>",
    });
    expect(rendered.subject).toBe(`Back in stock: ${SCRIPT}`);
    expect(rendered.html).toContain("<title>Back in stock: &lt;script&gt;");
    expect(rendered.html).toContain("Tom &amp; Jerry&#39;s &lt;Shop&gt;");
    expect(rendered.html).not.toContain("<script");
  });

  it("links only http(s) URLs: javascript:, data: and relative links are left out of HTML and text", () => {
    for (const bad of [
      "javascript:alert(1)",
      "JaVaScRiPt:alert(1)",
      "data:text/html,<b>x</b>",
      "/reset?token=1",
      "",
    ]) {
      const rendered = renderMessage(message("PASSWORD_RESET", { resetUrl: bad }), store);
      for (const href of hrefs(rendered.html)) expect(href).toMatch(/^https?:\/\//);
      expect(rendered.html).not.toContain("Choose a new password");
      expect(rendered.text).not.toContain("Choose a new password");
      if (bad !== "") {
        expect(rendered.html.toLowerCase()).not.toContain(bad.toLowerCase().slice(0, 11));
        expect(rendered.text.toLowerCase()).not.toContain(bad.toLowerCase().slice(0, 11));
      }
    }
    const review = renderMessage(
      message("ORDER_DELIVERED", {
        reviewUrls: [{ productId: "p", productName: "Mug", url: "javascript:alert(1)" }],
      }),
      store,
    );
    expect(review.html).not.toContain("javascript:");
    expect(visibleText(review.html)).toContain("Review Mug");
  });

  it("an href keeps its quotes escaped even inside a valid URL", () => {
    const rendered = renderMessage(
      message("BACK_IN_STOCK", { productUrl: `https://shop.example/p?q="><script>` }),
      store,
    );
    expect(rendered.html).not.toContain("<script");
    for (const href of hrefs(rendered.html)) expect(href).not.toContain('"');
  });

  it("a name with line breaks cannot break the subject or forge lines of the text", () => {
    const rendered = renderMessage(
      message("ORDER_SHIPPED", {
        name: "Ada\r\nBcc: eve@example.test\n\nReset your password: https://evil.example",
        trackingNumber: "TRACK\nFAKE",
      }),
      store,
    );
    expect(rendered.subject).not.toMatch(/[\r\n]/);
    expect(rendered.summary).toContain("TRACK FAKE");
    expect(rendered.text).not.toMatch(/^Bcc:/m);
    expect(rendered.text).not.toMatch(/^Reset your password/m);
    expect(rendered.text).toContain(
      "Hello Ada Bcc: eve@example.test Reset your password: https://evil.example,",
    );
  });

  it("cuts a long product name in the subject and keeps it whole in the body", () => {
    const long = `Handmade ${"very ".repeat(60)}long mug`;
    const rendered = renderMessage(message("BACK_IN_STOCK", { productName: long }), store);
    expect(Array.from(rendered.subject).length).toBeLessThanOrEqual(80);
    expect(rendered.subject.endsWith("…")).toBe(true);
    expect(squash(rendered.text)).toContain(long);
    expect(visibleText(rendered.html)).toContain(long);
  });
});

describe("money", () => {
  it("formats minor units for the currency's own decimals", () => {
    expect(minorUnitDigits("EUR")).toBe(2);
    expect(minorUnitDigits("JPY")).toBe(0);
    expect(minorUnitDigits("KWD")).toBe(3);
    expect(formatMoney(1500, "EUR")).toBe("€15.00");
    expect(formatMoney(1500, "JPY")).toBe("¥1,500");
    expect(formatMoney(1500, "KWD")).toMatch(/^KWD\s1\.500$/);
    expect(formatMoney(5, "USD")).toBe("$0.05");
    expect(formatMoney(0, "GBP")).toBe("£0.00");
    expect(formatMoney(-1299, "EUR")).toBe("-€12.99");
    expect(formatMoney(2_147_483_647, "USD")).toBe("$21,474,836.47");
  });

  it("shows a malformed currency code after the amount rather than failing the message", () => {
    expect(formatMoney(1500, "EURO")).toBe("15.00 EURO");
  });

  it("an order in JPY and the same figures in EUR read differently in text and HTML", () => {
    const figures = {
      total: 4597,
      lines: [{ productId: "p", productName: "Tea set", quantity: 1, unitPrice: 4597 }],
    };
    const yen = renderMessage(
      message("ORDER_CONFIRMED", { order: order({ ...figures, currencyCode: "JPY" }) }),
      store,
    );
    const euro = renderMessage(
      message("ORDER_CONFIRMED", { order: order({ ...figures, currencyCode: "EUR" }) }),
      store,
    );
    for (const body of [yen.text, visibleText(yen.html), yen.summary]) {
      expect(body).toContain("¥4,597");
      expect(body).not.toContain("45.97");
    }
    for (const body of [euro.text, visibleText(euro.html), euro.summary]) {
      expect(body).toContain("€45.97");
      expect(body).not.toContain("4,597");
    }
  });

  it("shows a subtotal only when the total is not the sum of the lines", () => {
    const same = renderMessage(message("ORDER_CONFIRMED"), store);
    expect(same.text).not.toContain("Subtotal");
    const differs = renderMessage(message("ORDER_CONFIRMED", { order: order({ total: 5097 }) }), store);
    expect(differs.text).toContain("Subtotal: €45.97");
    expect(differs.text).toContain("Total: €50.97");
    expect(visibleText(differs.html)).toContain("Subtotal €45.97");
  });

  it("shows the discounts, shipping and tax an order has, adding up to its total", () => {
    // 4597 − 460 + 499 + 915 = 5551.
    const breakdown = { subtotal: 4597, discount: 460, shipping: 499, tax: 915, taxIncluded: false };
    const added = renderMessage(
      message("ORDER_CONFIRMED", { order: order({ total: 5551, breakdown }) }),
      store,
    );
    expect(added.text).toContain(
      ["Subtotal: €45.97", "Discounts: -€4.60", "Shipping: €4.99", "Tax: €9.15", "Total: €55.51"].join("\n"),
    );
    expect(visibleText(added.html)).toContain("Discounts -€4.60");
    // Prices that include tax: the tax is shown after the total, not added to it.
    const included = renderMessage(
      message("ORDER_CONFIRMED", {
        order: order({ total: 4636, breakdown: { ...breakdown, tax: 773, taxIncluded: true } }),
      }),
      store,
    );
    expect(included.text).toContain(["Shipping: €4.99", "Total: €46.36", "Including tax: €7.73"].join("\n"));
    expect(included.text).not.toContain("Tax:");
  });

  it("a refund shows its amount and lines in the refund's currency", () => {
    const rendered = renderMessage(
      message("REFUND_ISSUED", {
        currencyCode: "JPY",
        amount: 3000,
        lines: [{ productId: "p-bowl", productName: null, quantity: 2, unitPrice: 1500 }],
      }),
      store,
    );
    expect(rendered.subject).toBe("Your refund of ¥3,000 for order 3F2A9C1E");
    expect(rendered.text).toContain("- 2 x Product p-bowl: ¥3,000 (¥1,500 each)");
    expect(rendered.text).toContain("Refunded: ¥3,000");
    expect(rendered.text).not.toContain("Items:");
    const partial = renderMessage(message("REFUND_ISSUED", { amount: 1000 }), store);
    expect(partial.text).toContain("Items: €12.99\nRefunded: €10.00");
    expect(visibleText(partial.html)).toContain("Items €12.99 Refunded €10.00");
    expect(visibleText(rendered.html)).toContain("Product p-bowl");
  });
});

describe("what each message says", () => {
  it("a rejected order says whether its lines are back in the cart", () => {
    const back = renderMessage(message("ORDER_REJECTED"), store);
    expect(back.summary).toContain("Its items are back in your cart.");
    expect(back.text).toContain("Its items are back in your cart");
    const gone = renderMessage(message("ORDER_REJECTED", { linesReturnedToCart: false }), store);
    expect(gone.summary).toContain("Its items are not in your cart.");
    expect(gone.text).toContain("Its items were not put back in your cart.");
    expect(gone.text).not.toContain("are back in your cart");
    expect(visibleText(gone.html)).toContain("Its items were not put back in your cart.");
  });

  it("a shipped order without a tracking number says so", () => {
    const rendered = renderMessage(message("ORDER_SHIPPED", { trackingNumber: null }), store);
    expect(rendered.text).toContain("Tracking number: none given for this parcel");
    expect(rendered.summary).toBe("Order 3F2A9C1E has shipped.");
    const tracked = renderMessage(message("ORDER_SHIPPED"), store);
    expect(tracked.summary).toBe("Order 3F2A9C1E has shipped: tracking number 1Z999AA10123456784.");
  });

  it("one parcel of an order shipped in several says what it holds, its carrier, and whether it was the last", () => {
    const shipment = {
      carrier: "UPS",
      trackingNumber: "1Z999AA10123456784",
      lines: [{ productId: "p-mug", productName: "Blue mug", quantity: 2 }],
      complete: false,
    };
    const part = renderMessage(message("ORDER_SHIPPED", { shipment }), store);
    expect(part.subject).toBe("Part of your order 3F2A9C1E has shipped");
    expect(part.summary).toBe("Part of your order 3F2A9C1E has shipped: tracking number 1Z999AA10123456784.");
    expect(part.text).toContain("Carrier: UPS");
    expect(part.text).toContain("Blue mug: 2 units");
    expect(visibleText(part.html)).toContain("This parcel holds:");
    const rest = renderMessage(
      message("ORDER_SHIPPED", { shipment: { ...shipment, complete: true } }),
      store,
    );
    expect(rest.subject).toBe("The rest of your order 3F2A9C1E has shipped");
  });

  it("a delivered order asks for one review per product, and for none when there is nothing to review", () => {
    const rendered = renderMessage(message("ORDER_DELIVERED"), store);
    expect(rendered.text.match(/^- Review /gm)).toHaveLength(2);
    expect(rendered.html.match(/<li /g)).toHaveLength(2);
    const none = renderMessage(message("ORDER_DELIVERED", { reviewUrls: [] }), store);
    expect(none.text).not.toContain("Review");
    expect(none.summary).toBe("Order 3F2A9C1E was delivered.");
  });

  it("an order without a shipping address leaves the address out", () => {
    const rendered = renderMessage(
      message("ORDER_CONFIRMED", { order: order({ shippingAddress: null }) }),
      store,
    );
    expect(rendered.text).not.toContain("Shipping to");
    expect(rendered.html).not.toContain("Shipping to");
  });

  it("a password reset and an invitation say different things, both with the link and its expiry", () => {
    const reset = renderMessage(message("PASSWORD_RESET"), store);
    expect(reset.subject).toBe("Reset your Nexus Store password");
    const invite = renderMessage(message("PASSWORD_RESET", { purpose: "invite" }), store);
    expect(invite.subject).toBe("You are invited to Nexus Store: set your password");
    expect(invite.text).toContain("An account was created for you at Nexus Store");
    expect(invite.text).not.toContain("reset the password");
    for (const rendered of [reset, invite]) {
      expect(rendered.text).toContain("https://shop.example/reset?token=r-456");
      expect(rendered.text).toContain("expires on 3 December 2026, 16:50 UTC");
      expect(rendered.summary).toContain("3 December 2026, 16:50 UTC");
    }
  });

  it("a password changed in the settings does not claim devices were signed out", () => {
    const rendered = renderMessage(message("PASSWORD_CHANGED", { via: "change" }), store);
    expect(rendered.text).toContain("from the account's settings");
    expect(rendered.text).not.toContain("signed out");
    expect(rendered.text).toContain(
      "If it was not you, reset your password now and tell us at help@shop.example.",
    );
  });

  it("an empty name greets without one; staff messages greet nobody", () => {
    expect(renderMessage(message("BACK_IN_STOCK", { name: "  " }), store).text).toContain("\n\nHello,\n\n");
    expect(renderMessage(message("LOW_STOCK"), store).text).not.toContain("Hello");
    expect(renderMessage(message("LOW_STOCK", { sku: null }), store).subject).toBe(
      "Low stock: p-mug (3 available)",
    );
  });

  it("a failed event keeps the error's lines in the text and the HTML", () => {
    const rendered = renderMessage(message("EVENT_FAILED"), store);
    expect(rendered.text).toContain(
      "    Error: connect ECONNREFUSED 127.0.0.1:1025\n        at TCPConnectWrap",
    );
    expect(rendered.html).toContain("<pre ");
  });

  it("an unreadable date is shown as given rather than as Invalid Date", () => {
    expect(formatDateTime("not a date")).toBe("not a date");
    expect(formatDateTime("2026-12-03T23:59:59+02:00")).toBe("3 December 2026, 21:59 UTC");
  });

  it("safeUrl accepts http(s) only", () => {
    expect(safeUrl("https://shop.example/a b")).toBe("https://shop.example/a%20b");
    expect(safeUrl("http://localhost:3000/x")).toBe("http://localhost:3000/x");
    expect(safeUrl(" javascript:alert(1)")).toBeNull();
    expect(safeUrl("mailto:a@b.example")).toBeNull();
    expect(safeUrl(null)).toBeNull();
  });
});

describe("a rendered message through real SMTP", () => {
  it("reaches the mail catcher with its subject, text and HTML intact", async () => {
    const catcher = await startMailCatcher();
    const transport = createMailTransport({ url: catcher.url, from: "Nexus Store <store@shop.example>" });
    try {
      const rendered = renderMessage(
        message("ORDER_CONFIRMED", {
          name: "Zoë <script>",
          order: order({
            lines: [{ productId: "p", productName: "Thé vert — 抹茶", quantity: 1, unitPrice: 4597 }],
          }),
        }),
        store,
      );
      const sent = await transport.send({ to: "zoe@example.test", ...rendered });
      const mail = await catcher.waitFor((m) => m.messageId === sent.messageId);
      expect(mail.subject).toBe(rendered.subject);
      expect(mail.text.trim()).toBe(rendered.text.trim());
      expect(mail.html?.trim()).toBe(rendered.html.trim());
      expect(mail.text).toContain("Hello Zoë <script>,");
      expect(mail.text).toContain("- 1 x Thé vert — 抹茶: €45.97");
    } finally {
      transport.close();
      await catcher.stop();
    }
  });
});
