/**
 * Classified lines -> what to import: products, customers, one order per sale invoice and one
 * return per credit invoice, lines merged per product. Lines are added one at a time as the
 * file streams by; only the grouped invoices are held.
 */
import { countryCode } from "./countries.ts";
import type { InvoiceLine } from "./lines.ts";

export interface PlannedProduct {
  sku: string;
  /** The description on the product's latest line (see `productName`), or the sku when it has none. */
  name: string;
  /** Unit price on the product's latest sale line, or latest return line if it was never sold. */
  unitPrice: number;
}

export interface PlannedCustomer {
  externalId: string;
  /** Country of the customer's latest invoice whose country maps to a code. */
  countryCode: string | null;
}

export interface PlannedLine {
  sku: string;
  quantity: number;
  unitPrice: number;
}

export interface PlannedInvoice {
  /** The invoice number: what makes importing it twice create it once. */
  externalId: string;
  customerExternalId: string | null;
  at: number;
  countryCode: string | null;
  lines: PlannedLine[];
}

export interface ImportPlan {
  products: PlannedProduct[];
  customers: PlannedCustomer[];
  /** Sale invoices, oldest first. */
  orders: PlannedInvoice[];
  /** Credit invoices, oldest first. */
  returns: PlannedInvoice[];
  /** Lines folded into an earlier line of the same invoice and product. */
  mergedLines: number;
  /** Invoices whose lines name more than one customer (the first line's is kept). */
  mixedCustomerInvoices: number;
  /** Country names the table does not know, with their line counts (imported without a country). */
  unknownCountries: Map<string, number>;
}

interface ProductState {
  name: string;
  nameAt: number;
  saleAt: number;
  salePrice: number | null;
  anyAt: number;
  anyPrice: number;
}

interface InvoiceState {
  customerExternalId: string | null;
  at: number;
  countryCode: string | null;
  lines: Map<string, { quantity: number; amount: number }>;
}

/** The catalog's longest product name. */
export const MAX_PRODUCT_NAME = 200;

/**
 * A description as a product name: line breaks and runs of spaces become one space, and it is
 * cut to the catalog's longest name (never inside a surrogate pair).
 */
export function productName(description: string): string {
  let name = description.replace(/\s+/g, " ").trim();
  if (name.length > MAX_PRODUCT_NAME) {
    name = name.slice(0, MAX_PRODUCT_NAME);
    if (/[\uD800-\uDBFF]$/.test(name)) name = name.slice(0, -1);
    name = name.trimEnd();
  }
  return name;
}

/** Rounds a non-negative ratio of integers half up, in integers. */
const divideRounded = (numerator: number, denominator: number) =>
  Math.floor((2 * numerator + denominator) / (2 * denominator));

const byTime = (a: PlannedInvoice, b: PlannedInvoice) =>
  a.at - b.at || (a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0);

export class PlanBuilder {
  private readonly products = new Map<string, ProductState>();
  private readonly customers = new Map<string, { code: string | null; at: number }>();
  private readonly sales = new Map<string, InvoiceState>();
  private readonly credits = new Map<string, InvoiceState>();
  private readonly countries = new Map<string, string | null>();
  private readonly unknownCountries = new Map<string, number>();
  private mergedLines = 0;
  private mixedCustomerInvoices = 0;
  private readonly mixed = new Set<string>();

  add(kind: "sale" | "return", line: InvoiceLine): void {
    const code = this.country(line.country);
    this.addProduct(kind, line);
    if (line.customerId !== null) {
      const known = this.customers.get(line.customerId);
      if (!known) this.customers.set(line.customerId, { code, at: code === null ? -Infinity : line.at });
      else if (code !== null && line.at >= known.at)
        this.customers.set(line.customerId, { code, at: line.at });
    }
    const invoices = kind === "sale" ? this.sales : this.credits;
    let invoice = invoices.get(line.invoiceNo);
    if (!invoice) {
      invoice = { customerExternalId: line.customerId, at: line.at, countryCode: code, lines: new Map() };
      invoices.set(line.invoiceNo, invoice);
    } else if (invoice.customerExternalId !== line.customerId && !this.mixed.has(line.invoiceNo)) {
      this.mixed.add(line.invoiceNo);
      this.mixedCustomerInvoices++;
    }
    const existing = invoice.lines.get(line.stockCode);
    if (existing) {
      existing.quantity += line.quantity;
      existing.amount += line.quantity * line.unitPrice;
      this.mergedLines++;
    } else {
      invoice.lines.set(line.stockCode, { quantity: line.quantity, amount: line.quantity * line.unitPrice });
    }
  }

  private country(name: string): string | null {
    const cached = this.countries.get(name);
    if (cached !== undefined) return cached;
    const lookup = countryCode(name);
    if (!lookup.known) {
      this.unknownCountries.set(name, (this.unknownCountries.get(name) ?? 0) + 1);
      return null;
    }
    this.countries.set(name, lookup.code);
    return lookup.code;
  }

  private addProduct(kind: "sale" | "return", line: InvoiceLine): void {
    let product = this.products.get(line.stockCode);
    if (!product) {
      product = {
        name: "",
        nameAt: -Infinity,
        saleAt: -Infinity,
        salePrice: null,
        anyAt: -Infinity,
        anyPrice: 0,
      };
      this.products.set(line.stockCode, product);
    }
    // `>=`: of lines at the same time, the later one in the file wins.
    if (line.description !== "" && line.at >= product.nameAt) {
      product.name = productName(line.description);
      product.nameAt = line.at;
    }
    if (kind === "sale" && line.at >= product.saleAt) {
      product.salePrice = line.unitPrice;
      product.saleAt = line.at;
    }
    if (line.at >= product.anyAt) {
      product.anyPrice = line.unitPrice;
      product.anyAt = line.at;
    }
  }

  build(): ImportPlan {
    const invoices = (map: Map<string, InvoiceState>) =>
      [...map].map(
        ([externalId, invoice]): PlannedInvoice => ({
          externalId,
          customerExternalId: invoice.customerExternalId,
          at: invoice.at,
          countryCode: invoice.countryCode,
          lines: [...invoice.lines].map(([sku, { quantity, amount }]) => ({
            sku,
            quantity,
            // Lines of one product at different prices become one line at their mean price.
            unitPrice: divideRounded(amount, quantity),
          })),
        }),
      );
    return {
      products: [...this.products].map(([sku, product]) => ({
        sku,
        name: product.name === "" ? sku : product.name,
        unitPrice: product.salePrice ?? product.anyPrice,
      })),
      customers: [...this.customers].map(([externalId, { code }]) => ({ externalId, countryCode: code })),
      orders: invoices(this.sales).sort(byTime),
      returns: invoices(this.credits).sort(byTime),
      mergedLines: this.mergedLines,
      mixedCustomerInvoices: this.mixedCustomerInvoices,
      unknownCountries: new Map(this.unknownCountries),
    };
  }
}
