/**
 * A deterministic generator of a store's history in the invoice-lines CSV format the importer
 * reads. The generative process is described in ./README.md; every draw comes from one seeded
 * random source, so the same options give the same file byte for byte.
 */

import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { Random, WeightedPicker } from "./random.ts";

/** A product given to the generator instead of invented ones (the demo catalog's). */
export interface CatalogProduct {
  sku: string;
  name: string;
  /** Minor units. */
  unitPrice: number;
  /** Products of one group are bought together. */
  group: string;
}

export interface HistoryOptions {
  /** Customer profiles (those whose lifetime misses the period never buy). Default 4,400. */
  customers?: number;
  /** Calendar months of history. Default 12. */
  months?: number;
  seed?: number;
  /** First day, `YYYY-MM-DD` (UTC). Default 2025-01-01, so a file does not depend on the day it is made. */
  start?: string;
  /** Products to invent when no catalog is given. Default 0.84 per customer (3,700 for 4,400). */
  products?: number;
  catalog?: readonly CatalogProduct[];
  /** Mean product lines of an invoice. Default 21 (a wholesale-leaning gift store). */
  basketLines?: number;
  /** Quantities of a shop selling single items (mostly 1) instead of packs of 6, 12, 24. */
  retail?: boolean;
  /** The first customer id; ids follow on. Default 12346. */
  firstCustomerId?: number;
  /** The first invoice number; returns take numbers from the same sequence, prefixed with C. */
  firstInvoiceNo?: number;
  /** `iso` writes `YYYY-MM-DD HH:MM:SS`, `us` writes `M/D/YYYY H:MM`. */
  dateFormat?: "iso" | "us";
}

/** One line of the file: the eight columns, as written. */
export interface HistoryRow {
  InvoiceNo: string;
  StockCode: string;
  Description: string;
  Quantity: string;
  InvoiceDate: string;
  UnitPrice: string;
  CustomerID: string;
  Country: string;
}

export const HISTORY_HEADER =
  "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country";

const DAY = 86_400_000;
/** Mean invoices a year of a customer before seasonality (gamma-distributed across customers). */
const RATE_PER_YEAR = 7.1;
/** Days before a customer stops buying over which their interest fades. */
const FADE_DAYS = 60;

/** Relative demand by day of week, Sunday first: a business-to-business week, quiet weekend. */
const WEEKDAY = [0.55, 1.0, 1.1, 1.1, 1.2, 0.85, 0.12];
/** Relative demand by calendar month: spring dip, the autumn build-up to a November peak. */
const MONTH = [0.75, 0.8, 0.95, 0.85, 0.95, 0.95, 0.95, 0.95, 1.25, 1.35, 1.6, 1.0];
const SEASON_MAX = Math.max(...WEEKDAY) * Math.max(...MONTH);
const season = (time: number) => {
  const date = new Date(time);
  return (WEEKDAY[date.getUTCDay()] as number) * (MONTH[date.getUTCMonth()] as number);
};
/** Hours of the working day invoices are written in, weighted towards midday. */
const HOURS = [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
const HOUR_WEIGHTS = new WeightedPicker([1, 4, 8, 10, 12, 13, 12, 11, 9, 7, 4, 2, 1, 1]);

const COUNTRIES: readonly [string, number][] = [
  ["United Kingdom", 880],
  ["Germany", 22],
  ["France", 20],
  ["EIRE", 8],
  ["Spain", 7],
  ["Belgium", 6],
  ["Switzerland", 5],
  ["Portugal", 5],
  ["Netherlands", 4],
  ["Italy", 4],
  ["Norway", 3],
  ["Finland", 3],
  ["Channel Islands", 3],
  ["Austria", 2],
  ["Denmark", 2],
  ["Australia", 2],
  ["Sweden", 2],
  ["Cyprus", 2],
  ["Poland", 1],
  ["Japan", 1],
  ["USA", 1],
  ["Unspecified", 1],
  ["European Community", 1],
  ["Iceland", 1],
  ["RSA", 1],
];
const COUNTRY_PICKER = new WeightedPicker(COUNTRIES.map(([, weight]) => weight));

interface Theme {
  name: string;
  nouns: readonly string[];
  /** Demand multiplier in October to December, and its inverse share the rest of the year. */
  q4: number;
}
const THEMES: readonly Theme[] = [
  {
    name: "CHRISTMAS",
    nouns: ["BAUBLE", "STOCKING", "TREE DECORATION", "ADVENT CALENDAR", "WREATH", "STAR"],
    q4: 4,
  },
  {
    name: "VINTAGE KITCHEN",
    nouns: ["CAKE TIN", "TEA TOWEL", "MEASURING SPOONS", "JAM JAR", "APRON", "CAKESTAND"],
    q4: 1.2,
  },
  {
    name: "GARDEN",
    nouns: ["WATERING CAN", "PLANT POT", "BIRD FEEDER", "GARDEN MARKER", "SEED TIN", "KNEELING PAD"],
    q4: 0.6,
  },
  { name: "PARTY", nouns: ["PAPER CUPS", "BUNTING", "NAPKINS", "PARTY BAG", "CANDLES", "CHAIN"], q4: 1.1 },
  {
    name: "LIGHTING",
    nouns: ["T-LIGHT HOLDER", "LANTERN", "NIGHT LIGHT", "STRING LIGHTS", "CANDLE POT", "LAMP"],
    q4: 1.5,
  },
  {
    name: "BAGS",
    nouns: ["JUMBO BAG", "LUNCH BAG", "SHOPPER", "CHARLOTTE BAG", "PURSE", "WASHBAG"],
    q4: 1.1,
  },
  {
    name: "STATIONERY",
    nouns: ["NOTEBOOK", "WRAP", "GIFT TAGS", "PENCILS", "GREETING CARD", "STICKERS"],
    q4: 1.4,
  },
  { name: "HOME", nouns: ["HEART", "CLOCK", "DOORMAT", "CUSHION COVER", "PHOTO FRAME", "HOOK"], q4: 1.2 },
  {
    name: "CHILDREN",
    nouns: ["SPACEBOY MUG", "PLAYHOUSE", "DOLLY GIRL BEAKER", "TOY SET", "LUNCH BOX", "SKIPPING ROPE"],
    q4: 1.3,
  },
  {
    name: "BATHROOM",
    nouns: ["SOAP DISH", "TOOTHBRUSH HOLDER", "TOWEL", "BATH SPONGE", "SHELF", "MIRROR"],
    q4: 0.9,
  },
];
const ADJECTIVES = [
  "WHITE",
  "RED",
  "PINK",
  "BLUE",
  "VINTAGE",
  "RETRO",
  "POLKADOT",
  "REGENCY",
  "ANTIQUE",
  "WOODLAND",
  "SKULL",
  "HANGING",
  "GLASS",
  "ZINC",
  "ENAMEL",
  "FELT",
  "SPOTTY",
  "FLORAL",
];

/** A product as the generator uses it: its price may change once during the period. */
interface Product {
  code: string;
  /** As written: some descriptions carry commas, quotes or trailing spaces. */
  description: string;
  price: number;
  /** From this time on the product sells at `newPrice`. */
  changeAt: number;
  newPrice: number;
}

interface Group {
  products: Product[];
  picker: WeightedPicker;
  q4: number;
}

interface Customer {
  id: number;
  country: string;
  /** Invoices per day at peak-free demand, before seasonality. */
  rate: number;
  /** The first time the customer can buy: the period's start, or their first purchase. */
  from: number;
  /** When the customer stops buying (Infinity: stays). */
  until: number;
  basketMean: number;
  /** Preferred groups and how strongly. */
  groups: number[];
  groupWeights: number[];
  wholesale: boolean;
  floatId: boolean;
}

interface SaleEvent {
  at: number;
  /** Index into the customers, -1 for a guest. */
  customer: number;
}

interface PendingReturn {
  at: number;
  customer: Customer;
  country: string;
  lines: { product: Product; quantity: number; price: number }[];
  manual: boolean;
}

const pad = (value: number, length = 2) => String(value).padStart(length, "0");

export function formatInvoiceDate(time: number, format: "iso" | "us"): string {
  const d = new Date(time);
  if (format === "us") {
    return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${d.getUTCHours()}:${pad(d.getUTCMinutes())}`;
  }
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** Minor units -> "2.55". */
const money = (amount: number) => {
  const sign = amount < 0 ? "-" : "";
  const magnitude = Math.abs(amount);
  return `${sign}${Math.floor(magnitude / 100)}.${pad(magnitude % 100)}`;
};

/** A shop price: a lognormal draw snapped to pence ending in 5 or 9 (0.85, 1.25, 2.49). */
function shopPrice(random: Random, median: number): number {
  const raw = Math.max(19, Math.round(median * Math.exp(0.55 * random.normal())));
  const tens = Math.floor(raw / 10) * 10;
  return tens + (random.chance(0.6) ? 5 : 9);
}

function inventProducts(random: Random, count: number): { groups: Group[]; all: Product[] } {
  const groupCount = Math.max(4, Math.round(count / 60));
  const buckets: { products: Product[]; q4: number }[] = Array.from({ length: groupCount }, (_, index) => ({
    products: [],
    q4: (THEMES[index % THEMES.length] as Theme).q4,
  }));
  const used = new Set<string>();
  const all: Product[] = [];
  for (let n = 0; n < count; n++) {
    const groupIndex = n % groupCount;
    const theme = THEMES[groupIndex % THEMES.length] as Theme;
    let code: string;
    do {
      code = String(10_000 + random.int(80_000));
      // Variants of one design share the number with a letter, as stock codes do.
      if (random.chance(0.25)) code += random.pick(["A", "B", "C", "D", "E", "F", "L", "S"]);
    } while (used.has(code));
    used.add(code);
    const adjective = random.pick(ADJECTIVES);
    const noun = random.pick(theme.nouns);
    const roll = random.next();
    let description = `${adjective} ${theme.name === "CHRISTMAS" || random.chance(0.3) ? `${theme.name} ` : ""}${noun}`;
    if (roll < 0.08)
      description = `SET OF ${2 + random.int(11)} ${description}S, ${random.pick(ADJECTIVES)} DESIGN`;
    else if (roll < 0.11)
      description = `${adjective} "${random.pick(["LOVE", "HOME", "JOY", "MERRY", "HELLO"])}" ${noun}`;
    else if (roll < 0.13)
      description = `${description}, ${random.pick(["ASSORTED", "LARGE", "SMALL"])} 12" X 8"`;
    if (random.chance(0.04)) description += " ";
    const price = shopPrice(random, 180 + random.int(400));
    const changes = random.chance(0.15);
    const product: Product = {
      code,
      description,
      price,
      changeAt: changes ? random.next() : Number.POSITIVE_INFINITY,
      newPrice: changes ? shopPrice(random, price * (random.chance(0.6) ? 1.1 : 0.85)) : price,
    };
    (buckets[groupIndex] as { products: Product[] }).products.push(product);
    all.push(product);
  }
  return { groups: buckets.map((bucket) => withPicker(random, bucket.products, bucket.q4)), all };
}

function catalogProducts(
  random: Random,
  catalog: readonly CatalogProduct[],
): { groups: Group[]; all: Product[] } {
  const byGroup = new Map<string, Product[]>();
  const all: Product[] = [];
  for (const item of catalog) {
    const product: Product = {
      code: item.sku,
      description: item.name,
      price: item.unitPrice,
      changeAt: Number.POSITIVE_INFINITY,
      newPrice: item.unitPrice,
    };
    const list = byGroup.get(item.group) ?? [];
    list.push(product);
    byGroup.set(item.group, list);
    all.push(product);
  }
  return { groups: [...byGroup.values()].map((products) => withPicker(random, products, 1.2)), all };
}

/** Popularity inside a group falls off like a Zipf law over a shuffled order: a few best sellers. */
function withPicker(random: Random, products: Product[], q4: number): Group {
  const ranks = random.shuffle(products.map((_, index) => index));
  return { products, picker: new WeightedPicker(ranks.map((rank) => 1 / (rank + 1) ** 0.9)), q4 };
}

function addMonths(time: number, months: number): number {
  const d = new Date(time);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, d.getUTCDate());
}

/** A working-hours time on the day of `time`. */
function timeOfDay(random: Random, time: number): number {
  const day = Math.floor(time / DAY) * DAY;
  return day + (HOURS[HOUR_WEIGHTS.pick(random)] as number) * 3_600_000 + random.int(60) * 60_000;
}

/**
 * The rows of a generated history, oldest invoice first, returns interleaved at their time.
 * Everything is decided by `options.seed`.
 */
export function* historyRows(options: HistoryOptions = {}): Generator<HistoryRow> {
  const random = new Random(options.seed ?? 1);
  const customerCount = options.customers ?? 4_400;
  const startText = options.start ?? "2025-01-01";
  if (!/^\d{4}-\d{2}-\d{2}$/.test(startText) || Number.isNaN(Date.parse(`${startText}T00:00:00Z`))) {
    throw new Error(`start must be YYYY-MM-DD, not "${startText}"`);
  }
  const start = Date.parse(`${startText}T00:00:00Z`);
  const end = addMonths(start, options.months ?? 12);
  const span = end - start;
  const dateFormat = options.dateFormat ?? "iso";
  const retail = options.retail ?? false;
  const basketLines = options.basketLines ?? 21;
  const { groups, all } = options.catalog
    ? catalogProducts(random, options.catalog)
    : inventProducts(random, options.products ?? Math.max(60, Math.round(customerCount * 0.84)));
  if (all.length === 0) return;
  for (const product of all) {
    if (Number.isFinite(product.changeAt)) product.changeAt = start + product.changeAt * span;
  }
  const priceAt = (product: Product, time: number) =>
    time >= product.changeAt ? product.newPrice : product.price;

  // Customers: heterogeneous rates (gamma), a start (already a customer, or joining during the
  // period with a first purchase then), and a lifetime after which they stop buying.
  const customers: Customer[] = [];
  const events: SaleEvent[] = [];
  // Profiles are drawn until `customerCount` of them buy in the period: one whose lifetime
  // misses it would not be in the file at all.
  for (let drawn = 0; customers.length < customerCount && drawn < customerCount * 20; drawn++) {
    const existing = random.chance(0.55);
    const joined = existing ? start : start + random.next() * span;
    const stays = random.chance(0.35);
    const lifetime = stays ? Number.POSITIVE_INFINITY : random.exponential(270 * DAY);
    const groupCount = 1 + random.int(3);
    const preferred = Array.from({ length: groupCount }, () => random.int(groups.length));
    const customer: Customer = {
      id: (options.firstCustomerId ?? 12_346) + customers.length,
      country: (COUNTRIES[COUNTRY_PICKER.pick(random)] as [string, number])[0],
      rate: random.gamma(0.75, 1 / 0.75) * (RATE_PER_YEAR / 365),
      from: joined,
      until: joined + lifetime,
      basketMean: Math.max(1, random.gamma(2.2, basketLines / 2.2)),
      groups: preferred,
      groupWeights: preferred.map(() => random.gamma(1, 1)),
      wholesale: !retail && random.chance(0.35),
      floatId: random.chance(0.4),
    };
    const times: number[] = [];
    if (!existing) times.push(timeOfDay(random, customer.from));
    // Purchases: a Poisson process thinned by seasonality and, in the last weeks of a lifetime
    // that ends, by a fading interest (customers drift away before they stop).
    const maxRate = customer.rate * SEASON_MAX;
    const last = Math.min(customer.until, end);
    if (maxRate > 0) {
      for (
        let t = customer.from + random.exponential(DAY / maxRate);
        t < last;
        t += random.exponential(DAY / maxRate)
      ) {
        const toEnd = (customer.until - t) / DAY;
        const fade = toEnd < FADE_DAYS ? 0.25 + (0.75 * toEnd) / FADE_DAYS : 1;
        if (random.next() < (season(t) * fade) / SEASON_MAX) times.push(timeOfDay(random, t));
      }
    }
    if (times.length === 0) continue;
    for (const at of times) events.push({ at, customer: customers.length });
    customers.push(customer);
  }
  // Guests: orders without a customer account, larger baskets, mostly from the home market.
  const guestRate = (customerCount * 0.55) / 365;
  for (
    let t = start + random.exponential(DAY / (guestRate * SEASON_MAX));
    t < end;
    t += random.exponential(DAY / (guestRate * SEASON_MAX))
  ) {
    if (random.next() < season(t) / SEASON_MAX) events.push({ at: timeOfDay(random, t), customer: -1 });
  }
  events.sort((a, b) => a.at - b.at);

  let invoiceNo = options.firstInvoiceNo ?? 536_365;
  const pending: PendingReturn[] = [];
  const row = (
    invoice: string,
    code: string,
    description: string,
    quantity: number,
    at: number,
    price: number,
    customer: string,
    country: string,
  ): HistoryRow => ({
    InvoiceNo: invoice,
    StockCode: code,
    Description: description,
    Quantity: String(quantity),
    InvoiceDate: formatInvoiceDate(at, dateFormat),
    UnitPrice: money(price),
    CustomerID: customer,
    Country: country,
  });
  const customerField = (customer: Customer) => (customer.floatId ? `${customer.id}.0` : String(customer.id));
  const quantity = (customer: Customer | null) => {
    if (retail) return random.chance(0.85) ? 1 : 2 + random.int(2);
    if (customer?.wholesale) return random.pick([6, 12, 12, 12, 24, 24, 48, 96]);
    return random.pick([1, 1, 2, 2, 3, 4, 6, 6, 12]);
  };

  function* flushReturns(until: number): Generator<HistoryRow> {
    pending.sort((a, b) => a.at - b.at);
    while (pending.length > 0 && (pending[0] as PendingReturn).at <= until) {
      const credit = pending.shift() as PendingReturn;
      const number = `C${invoiceNo++}`;
      const id = customerField(credit.customer);
      for (const line of credit.lines) {
        yield row(
          number,
          line.product.code,
          line.product.description,
          -line.quantity,
          credit.at,
          line.price,
          id,
          credit.country,
        );
      }
      if (credit.manual)
        yield row(number, "M", "Manual", -1, credit.at, 100 + random.int(2_000), id, credit.country);
    }
  }

  for (const event of events) {
    yield* flushReturns(event.at);
    const customer = event.customer >= 0 ? (customers[event.customer] as Customer) : null;
    const number = String(invoiceNo++);
    const country = customer
      ? customer.country
      : random.chance(0.95)
        ? "United Kingdom"
        : (COUNTRIES[COUNTRY_PICKER.pick(random)] as [string, number])[0];
    const id = customer ? customerField(customer) : "";
    const mean = customer ? customer.basketMean : basketLines * 1.7;
    const size = Math.min(all.length, 1 + random.poisson(Math.max(0, mean - 1)), 400);
    const month = new Date(event.at).getUTCMonth();
    const q4 = month >= 9;
    const chosen = new Set<Product>();
    const lines: { product: Product; quantity: number; price: number }[] = [];
    for (let attempt = 0; lines.length < size && attempt < size * 4; attempt++) {
      // Most lines come from the customer's groups; the rest from any group. Seasonal groups
      // (Christmas) sell several times more in the fourth quarter.
      let group: Group;
      if (customer && random.chance(0.8)) {
        const weights = customer.groupWeights;
        let target = random.next() * weights.reduce((sum, w) => sum + w, 0);
        let choice = 0;
        while (choice < weights.length - 1 && target >= (weights[choice] as number)) {
          target -= weights[choice] as number;
          choice++;
        }
        group = groups[customer.groups[choice] as number] as Group;
      } else {
        group = random.pick(groups);
      }
      const seasonal = q4 ? group.q4 : 1 / group.q4;
      if (seasonal < 1 && !random.chance(seasonal)) continue;
      const product = group.products[group.picker.pick(random)] as Product;
      if (chosen.has(product)) continue;
      chosen.add(product);
      lines.push({ product, quantity: quantity(customer), price: priceAt(product, event.at) });
    }
    for (const line of lines) {
      // Messy details of real exports: a zero-priced gift line, a sub-penny price, a code
      // written in lower case, the same product twice on one invoice.
      const roll = random.next();
      const code =
        roll < 0.01 && /[A-Z]$/.test(line.product.code) ? line.product.code.toLowerCase() : line.product.code;
      const price = roll > 0.9995 ? 0 : line.price;
      yield row(number, code, line.product.description, line.quantity, event.at, price, id, country);
      if (roll > 0.4 && roll < 0.408)
        yield row(number, code, line.product.description, 1, event.at, price, id, country);
    }
    if (customer === null) {
      yield row(
        number,
        "DOT",
        "DOTCOM POSTAGE",
        1,
        event.at,
        200 + lines.length * 40 + random.int(300),
        id,
        country,
      );
    } else if (country !== "United Kingdom" && random.chance(0.7)) {
      if (country === "EIRE" && random.chance(0.4))
        yield row(number, "C2", "CARRIAGE", 1, event.at, 5_000, id, country);
      else yield row(number, "POST", "POSTAGE", 1 + random.int(3), event.at, 1_800, id, country);
    }
    if (random.chance(0.003))
      yield row(number, "M", "Manual", 1, event.at, 50 + random.int(5_000), id, country);
    if (random.chance(0.0005))
      yield row(number, "BANK CHARGES", "Bank Charges", 1, event.at, 1_500, id, country);
    if (random.chance(0.0004))
      yield row(number, "PADS", "PADS TO MATCH ALL CUSHIONS", 1, event.at, 0, id, country);
    // Returns: some invoices of known customers are partly sent back, days later.
    if (customer && lines.length > 0 && random.chance(0.15)) {
      const at = timeOfDay(random, event.at + DAY + random.exponential(12 * DAY));
      if (at < end) {
        const count = Math.min(lines.length, 1 + random.poisson(0.6));
        const given = random.shuffle([...lines]).slice(0, count);
        pending.push({
          at,
          customer,
          country,
          lines: given.map((line) => ({
            ...line,
            quantity: random.chance(0.6) ? line.quantity : 1 + random.int(line.quantity),
          })),
          manual: random.chance(0.05),
        });
      }
    }
  }
  yield* flushReturns(Number.POSITIVE_INFINITY);
}

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function csvLine(row: HistoryRow): string {
  return [
    row.InvoiceNo,
    row.StockCode,
    csvField(row.Description),
    row.Quantity,
    row.InvoiceDate,
    row.UnitPrice,
    row.CustomerID,
    csvField(row.Country),
  ].join(",");
}

/** The whole history as CSV text chunks (header first), about 64 KiB each. */
export function* historyCsvChunks(options: HistoryOptions = {}): Generator<string> {
  let chunk = `${HISTORY_HEADER}\r\n`;
  for (const row of historyRows(options)) {
    chunk += `${csvLine(row)}\r\n`;
    if (chunk.length > 65_536) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk.length > 0) yield chunk;
}

export interface WriteSummary {
  lines: number;
  invoices: number;
  returns: number;
  customers: number;
  products: number;
  bytes: number;
}

/** Streams the history to a file, with a summary of what it holds. */
export async function writeHistoryCsv(path: string, options: HistoryOptions = {}): Promise<WriteSummary> {
  const out = createWriteStream(path);
  const summary: WriteSummary = { lines: 0, invoices: 0, returns: 0, customers: 0, products: 0, bytes: 0 };
  const invoices = new Set<string>();
  const customers = new Set<string>();
  const products = new Set<string>();
  let chunk = `${HISTORY_HEADER}\r\n`;
  const flush = async () => {
    summary.bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, "drain");
    chunk = "";
  };
  let lastInvoice = "";
  for (const row of historyRows(options)) {
    summary.lines++;
    if (row.InvoiceNo !== lastInvoice) {
      lastInvoice = row.InvoiceNo;
      invoices.add(row.InvoiceNo);
      if (row.InvoiceNo.startsWith("C")) summary.returns++;
    }
    if (row.CustomerID !== "") customers.add(row.CustomerID.replace(/\.0$/, ""));
    products.add(row.StockCode.toUpperCase());
    chunk += `${csvLine(row)}\r\n`;
    if (chunk.length > 65_536) await flush();
  }
  await flush();
  out.end();
  await once(out, "finish");
  summary.invoices = invoices.size;
  summary.customers = customers.size;
  summary.products = products.size;
  return summary;
}
