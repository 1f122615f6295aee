import type { OrderSnapshot } from "@nexus/events";
import { formatDateTime, formatMoney, oneLine, orderReference, plural, truncate } from "../format.ts";
import type { Block, Composed } from "../layout.ts";
import type { MessageData, StoreInfo } from "../message-types.ts";

/** Longest product name a subject or summary carries; the body always has the whole name. */
const NAME_IN_SUBJECT = 60;

function itemCount(order: OrderSnapshot): number {
  return order.lines.reduce((sum, line) => sum + line.quantity, 0);
}

/**
 * The order's lines and total. The subtotal, discounts, shipping and tax are shown when the order
 * has them (and the subtotal whenever the total differs from the sum of the lines), so the
 * figures always add up on the page; tax included in the prices is shown after the total.
 */
function orderLines(order: OrderSnapshot): Block {
  const subtotal =
    order.breakdown?.subtotal ?? order.lines.reduce((sum, line) => sum + line.unitPrice * line.quantity, 0);
  const { discount = 0, shipping = 0, tax = 0, taxIncluded = false } = order.breakdown ?? {};
  const totals =
    subtotal === order.total
      ? [{ label: "Total", amount: order.total }]
      : [
          { label: "Subtotal", amount: subtotal },
          ...(discount > 0 ? [{ label: "Discounts", amount: -discount }] : []),
          ...(shipping > 0 ? [{ label: "Shipping", amount: shipping }] : []),
          ...(tax > 0 && !taxIncluded ? [{ label: "Tax", amount: tax }] : []),
          { label: "Total", amount: order.total },
        ];
  if (tax > 0 && taxIncluded) totals.push({ label: "Including tax", amount: tax });
  return {
    kind: "lines",
    currencyCode: order.currencyCode,
    lines: order.lines.map((line) => ({
      name: line.productName,
      quantity: line.quantity,
      unitPrice: line.unitPrice,
    })),
    totals,
  };
}

function shippingAddress(order: OrderSnapshot, title: string): Block[] {
  return order.shippingAddress ? [{ kind: "address", title, address: order.shippingAddress }] : [];
}

export function orderConfirmed(data: MessageData["ORDER_CONFIRMED"], _store: StoreInfo): Composed {
  const ref = orderReference(data.orderId);
  const total = formatMoney(data.order.total, data.order.currencyCode);
  return {
    subject: `Order ${ref} confirmed`,
    summary: `Order ${ref} confirmed: ${plural(itemCount(data.order), "item", "items")}, ${total}.`,
    greetingName: data.name,
    blocks: [
      { kind: "heading", text: "Thank you for your order" },
      { kind: "paragraph", parts: ["Your order is confirmed. We will write again when it ships."] },
      {
        kind: "facts",
        rows: [
          { label: "Order number", value: data.orderId },
          { label: "Placed", value: formatDateTime(data.order.placedAt) },
        ],
      },
      orderLines(data.order),
      ...shippingAddress(data.order, "Shipping to"),
      { kind: "button", label: "View your order", url: data.orderUrl },
    ],
  };
}

export function orderRejected(data: MessageData["ORDER_REJECTED"], _store: StoreInfo): Composed {
  const ref = orderReference(data.orderId);
  const reason = oneLine(data.reason);
  const cart = data.linesReturnedToCart
    ? "Its items are back in your cart, together with anything already there, so you can check out again when you are ready."
    : "Its items were not put back in your cart.";
  return {
    subject: `Your order ${ref} could not be completed`,
    summary: `Order ${ref} could not be completed (${truncate(reason, 80)}). ${
      data.linesReturnedToCart ? "Its items are back in your cart." : "Its items are not in your cart."
    }`,
    greetingName: data.name,
    blocks: [
      { kind: "heading", text: "We could not complete your order" },
      { kind: "paragraph", parts: ["We are sorry: your order could not be completed."] },
      {
        kind: "facts",
        rows: [
          { label: "Order number", value: data.orderId },
          { label: "Reason", value: reason },
        ],
      },
      { kind: "paragraph", parts: [{ strong: cart }] },
      {
        kind: "button",
        label: data.linesReturnedToCart ? "Go to your cart" : "Visit your cart",
        url: data.cartUrl,
      },
      { kind: "paragraph", parts: ["The order held:"] },
      orderLines(data.order),
    ],
  };
}

export function orderCancelled(data: MessageData["ORDER_CANCELLED"], _store: StoreInfo): Composed {
  const ref = orderReference(data.orderId);
  const reason = oneLine(data.reason);
  return {
    subject: `Your order ${ref} was cancelled`,
    summary: `Order ${ref} was cancelled (${truncate(reason, 80)}).`,
    greetingName: data.name,
    blocks: [
      { kind: "heading", text: "Your order was cancelled" },
      {
        kind: "facts",
        rows: [
          { label: "Order number", value: data.orderId },
          { label: "Reason", value: reason },
        ],
      },
      { kind: "paragraph", parts: ["The order held:"] },
      orderLines(data.order),
      { kind: "button", label: "View the order", url: data.orderUrl },
    ],
  };
}

export function orderShipped(data: MessageData["ORDER_SHIPPED"], _store: StoreInfo): Composed {
  const ref = orderReference(data.orderId);
  const tracking = data.trackingNumber === null ? "" : oneLine(data.trackingNumber);
  const { shipment } = data;
  const what = !shipment ? "Your order" : shipment.complete ? "The rest of your order" : "Part of your order";
  const carrier = shipment?.carrier ? oneLine(shipment.carrier) : "";
  return {
    subject: `${what} ${ref} has shipped`,
    summary:
      tracking === ""
        ? `${shipment ? what : "Order"} ${ref} has shipped.`
        : `${shipment ? what : "Order"} ${ref} has shipped: tracking number ${truncate(tracking, 60)}.`,
    greetingName: data.name,
    blocks: [
      {
        kind: "heading",
        text:
          shipment && !shipment.complete ? "Part of your order is on its way" : "Your order is on its way",
      },
      {
        kind: "facts",
        rows: [
          { label: "Order number", value: data.orderId },
          ...(carrier === "" ? [] : [{ label: "Carrier", value: carrier }]),
          { label: "Tracking number", value: tracking === "" ? "none given for this parcel" : tracking },
        ],
      },
      ...(shipment
        ? [
            { kind: "paragraph" as const, parts: ["This parcel holds:"] },
            {
              kind: "facts" as const,
              rows: shipment.lines.map((line) => ({
                label: oneLine(line.productName),
                value: `${line.quantity} ${line.quantity === 1 ? "unit" : "units"}`,
              })),
            },
            { kind: "paragraph" as const, parts: ["Your whole order:"] },
          ]
        : []),
      orderLines(data.order),
      ...shippingAddress(data.order, "Shipping to"),
      { kind: "button", label: "View your order", url: data.orderUrl },
    ],
  };
}

export function orderDelivered(data: MessageData["ORDER_DELIVERED"], _store: StoreInfo): Composed {
  const ref = orderReference(data.orderId);
  const reviews: Block[] =
    data.reviewUrls.length === 0
      ? []
      : [
          {
            kind: "paragraph",
            parts: [
              data.reviewUrls.length === 1
                ? "Would you review what you bought? It helps other customers choose."
                : "Would you review what you bought? It helps other customers choose. One link per product:",
            ],
          },
          {
            kind: "links",
            items: data.reviewUrls.map((review) => ({
              label: `Review ${oneLine(review.productName)}`,
              url: review.url,
            })),
          },
        ];
  return {
    subject: `Your order ${ref} was delivered`,
    summary:
      data.reviewUrls.length === 0
        ? `Order ${ref} was delivered.`
        : `Order ${ref} was delivered: tell us what you think of ${plural(data.reviewUrls.length, "product", "products")}.`,
    greetingName: data.name,
    blocks: [
      { kind: "heading", text: "Your order was delivered" },
      { kind: "paragraph", parts: ["Your order has arrived. We hope you enjoy it."] },
      ...reviews,
      { kind: "facts", rows: [{ label: "Order number", value: data.orderId }] },
      { kind: "button", label: "View your order", url: data.orderUrl },
    ],
  };
}

/** The refund's amount, after the items' sum when the two differ (a partial refund, shipping). */
function refundTotals(data: MessageData["REFUND_ISSUED"]): { label: string; amount: number }[] {
  const items = data.lines.reduce((sum, line) => sum + line.unitPrice * line.quantity, 0);
  const refunded = { label: "Refunded", amount: data.amount };
  return items === data.amount ? [refunded] : [{ label: "Items", amount: items }, refunded];
}

export function refundIssued(data: MessageData["REFUND_ISSUED"], _store: StoreInfo): Composed {
  const amount = formatMoney(data.amount, data.currencyCode);
  const ref = data.orderId === null ? null : orderReference(data.orderId);
  const lines: Block[] =
    data.lines.length === 0
      ? []
      : [
          { kind: "paragraph", parts: ["Refunded items:"] },
          {
            kind: "lines",
            currencyCode: data.currencyCode,
            lines: data.lines.map((line) => ({
              name: line.productName ?? `Product ${line.productId}`,
              quantity: line.quantity,
              unitPrice: line.unitPrice,
            })),
            totals: refundTotals(data),
          },
        ];
  return {
    subject: ref === null ? `Your refund of ${amount}` : `Your refund of ${amount} for order ${ref}`,
    summary:
      ref === null
        ? `A refund of ${amount} was issued.`
        : `A refund of ${amount} was issued for order ${ref}.`,
    greetingName: data.name,
    blocks: [
      { kind: "heading", text: "Your refund is on its way" },
      {
        kind: "paragraph",
        parts: [
          "We have refunded ",
          { strong: amount },
          ". It goes back to the way you paid; your bank may take a few days to show it.",
        ],
      },
      {
        kind: "facts",
        rows: [
          { label: "Amount refunded", value: amount },
          ...(data.orderId === null ? [] : [{ label: "Order number", value: data.orderId }]),
          { label: "Reason", value: oneLine(data.reason) },
        ],
      },
      ...lines,
      { kind: "button", label: "View your order", url: data.orderUrl },
    ],
  };
}

export function backInStock(data: MessageData["BACK_IN_STOCK"], _store: StoreInfo): Composed {
  const product = oneLine(data.productName);
  const short = truncate(product, NAME_IN_SUBJECT);
  return {
    subject: `Back in stock: ${short}`,
    summary: `${short}, on your wishlist, is back in stock.`,
    greetingName: data.name,
    blocks: [
      { kind: "heading", text: "Back in stock" },
      {
        kind: "paragraph",
        parts: ["Good news: ", { strong: product }, ", which is on your wishlist, is back in stock."],
      },
      { kind: "button", label: "See the product", url: data.productUrl },
      {
        kind: "note",
        parts: [
          "You are getting this email because the product is on your wishlist. You can turn these emails off in your notification preferences.",
        ],
      },
    ],
  };
}
