/** Each step of the journey as the lines a terminal shows. */
import type { StorefrontStep } from "./flow.ts";
import { formatMoney } from "./money.ts";

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? "" : "s"}`;

export function describeStep(step: StorefrontStep): string[] {
  switch (step.step) {
    case "category": {
      const { listing } = step;
      const lines = [
        `Category ${listing.category.name} (${listing.category.path}): ${listing.totalCount} products`,
      ];
      listing.pages.forEach((page, index) => {
        lines.push(`  page ${index + 1}:`);
        for (const product of page) {
          const sale = product.compareAtPrice ? ` (was ${formatMoney(product.compareAtPrice)})` : "";
          const stock = product.inventory.inStock ? "" : " — out of stock";
          lines.push(`    ${product.name} by ${product.brand}: ${formatMoney(product.price)}${sale}${stock}`);
        }
      });
      if (listing.hasMore) lines.push("  … more pages");
      return lines;
    }
    case "product": {
      const { product } = step;
      const stock = product.inventory.inStock
        ? `${product.inventory.available} in stock${product.inventory.lowStock ? " (low)" : ""}`
        : "out of stock";
      const lines = [
        `Product ${product.name} by ${product.brand}: ${formatMoney(product.price)}, ${stock}`,
        `  rated ${product.rating.average} from ${plural(product.rating.count, "review")}`,
      ];
      for (const { node } of product.reviews.edges) {
        const verified = node.verifiedPurchase ? ", verified purchase" : "";
        lines.push(`    ${"★".repeat(node.rating)} "${node.title}" by ${node.author.name}${verified}`);
      }
      return lines;
    }
    case "shopper":
      return [
        step.shopper.kind === "customer"
          ? `Signed in as ${step.shopper.name}`
          : `Continuing as a guest (confirmation to ${step.shopper.email})`,
      ];
    case "cart":
      return [
        `Added ${step.quantity} × ${step.productName}: ${plural(step.totalQuantity, "unit")} in the cart`,
        ...step.warnings.map((warning) => `  warning ${warning.code}: ${warning.message}`),
      ];
    case "shipping":
      return [
        step.chosen
          ? `Shipping: ${step.chosen.name} (${step.chosen.zoneName}), ${formatMoney(step.chosen.price)}` +
            ` — cheapest of ${step.options.length}`
          : "Shipping: the store offers no method for this address",
      ];
    case "priced-cart": {
      const { cart } = step;
      const lines = ["Cart:"];
      for (const line of cart.lines) {
        const total = line.lineTotal ? formatMoney(line.lineTotal) : "no longer for sale";
        lines.push(`  ${line.quantity} × ${line.product?.name ?? line.productId}: ${total}`);
      }
      lines.push(
        `  subtotal ${formatMoney(cart.subtotal)}, discounts −${formatMoney(cart.discountTotal)},` +
          ` shipping ${formatMoney(cart.shippingTotal)}, tax ${formatMoney(cart.taxTotal)}` +
          `${cart.pricesIncludeTax ? " (included)" : ""}`,
        `  total ${formatMoney(cart.total)}`,
      );
      return lines;
    }
    case "checkout":
      return [
        `Checked out (idempotency key ${step.idempotencyKey}): order ${step.order.id}, ` +
          `${step.order.status}, ${formatMoney(step.order.total)}`,
      ];
    case "order-status": {
      const { order } = step;
      const reason = order.statusHistory.at(-1)?.reason;
      const payment = order.payment ? `, payment ${order.payment.status}` : "";
      return [`Order ${order.id} is ${order.status}${payment}${reason ? ` (${reason})` : ""}`];
    }
    case "not-followed":
      return [`Not following the order: ${step.reason}`];
  }
}
