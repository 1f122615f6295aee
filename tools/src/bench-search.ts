/**
 * `pnpm bench:search [--products 100000] [--queries 300] [--seed 7]`: the catalog's embedded
 * search engine at the size of a large store, in memory only (no MongoDB, no Redis). Generates
 * `--products` products deterministically from realistic words (departments and categories,
 * brands, product nouns and model names, adjectives, attributes with labels, descriptions of a
 * few sentences), builds the index and reports the seconds it took and the heap it holds, then
 * runs `--queries` three-word queries (brand, adjective or attribute value, noun; some with a
 * typo, some a prefix) with facets and a page of 20, and as many suggestions, reporting
 * p50/p95/p99 latency and how many products matched. Targets: build ≤ 60 s, search p95 ≤ 20 ms.
 * Not part of `pnpm test`; what it prints is in tools/README.md.
 */
import { parseArgs } from "node:util";
import { createEmbeddedSearchEngine, type SearchDocument } from "@nexus/catalog/search";
import { cliChecks } from "./cli.ts";

const USAGE = "Usage: pnpm bench:search [--products 100000] [--queries 300] [--seed 7]";

const { values } = parseArgs({
  options: {
    products: { type: "string", default: "100000" },
    queries: { type: "string", default: "300" },
    seed: { type: "string", default: "7" },
    help: { type: "boolean", default: false },
  },
});

const { whole } = cliChecks(USAGE);
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const productCount = whole("products", values.products, 1, 10_000_000);
const queryCount = whole("queries", values.queries, 1, 100_000);
const seed = whole("seed", values.seed, 0, 2 ** 31);

function mulberry32(start: number) {
  let a = start;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = mulberry32(seed);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

interface Leaf {
  name: string;
  nouns: string[];
  attributes: { name: string; label: string; values: string[] }[];
  price: [number, number];
}

const COLOURS = ["black", "white", "navy", "grey", "red", "olive", "blue", "green", "silver", "orange"];
const SIZES = ["XS", "S", "M", "L", "XL", "XXL"];
const MATERIALS = [
  "cotton",
  "linen",
  "wool",
  "leather",
  "steel",
  "aluminium",
  "bamboo",
  "oak",
  "ceramic",
  "glass",
];
const colour = { name: "colour", label: "Colour", values: COLOURS };
const size = { name: "size", label: "Size", values: SIZES };
const material = { name: "material", label: "Material", values: MATERIALS };
const leaf = (
  name: string,
  nouns: string,
  attributes: Leaf["attributes"],
  price: [number, number],
): Leaf => ({
  name,
  nouns: nouns.split(" "),
  attributes,
  price,
});

const DEPARTMENTS: { name: string; brands: string[]; leaves: Leaf[] }[] = [
  {
    name: "Electronics",
    brands: [
      "Lenovo",
      "Dell",
      "Apple",
      "Asus",
      "Acer",
      "HP",
      "Samsung",
      "Sony",
      "Bose",
      "Sennheiser",
      "Xiaomi",
      "Google",
    ],
    leaves: [
      leaf(
        "Laptops",
        "laptop notebook ultrabook chromebook",
        [
          { name: "ram", label: "Memory", values: ["8GB", "16GB", "32GB", "64GB"] },
          { name: "cpu", label: "Processor", values: ["4-core", "8-core", "12-core"] },
          { name: "screen", label: "Screen size", values: ["13.3", "14", "15.6", "16"] },
        ],
        [49900, 349900],
      ),
      leaf(
        "Phones",
        "smartphone phone handset",
        [{ name: "storage", label: "Storage", values: ["128GB", "256GB", "512GB"] }, colour],
        [19900, 139900],
      ),
      leaf(
        "Headphones",
        "headphones earbuds headset earphones",
        [{ name: "form", label: "Form factor", values: ["over-ear", "on-ear", "in-ear"] }, colour],
        [2900, 44900],
      ),
      leaf(
        "Tablets",
        "tablet slate",
        [{ name: "storage", label: "Storage", values: ["64GB", "128GB", "256GB"] }],
        [19900, 129900],
      ),
      leaf(
        "Cameras",
        "camera camcorder lens",
        [{ name: "sensor", label: "Sensor", values: ["full-frame", "APS-C", "micro four thirds"] }],
        [29900, 299900],
      ),
      leaf(
        "Monitors",
        "monitor display screen",
        [{ name: "resolution", label: "Resolution", values: ["1080p", "1440p", "4K"] }],
        [12900, 99900],
      ),
    ],
  },
  {
    name: "Apparel",
    brands: [
      "Patagonia",
      "Uniqlo",
      "Levi's",
      "Everlane",
      "Arket",
      "Nike",
      "Adidas",
      "The North Face",
      "Arc'teryx",
      "Fjällräven",
    ],
    leaves: [
      leaf("T-shirts", "tee t-shirt top", [size, colour, material], [1500, 4500]),
      leaf(
        "Jackets",
        "jacket parka shell puffer windbreaker fleece",
        [size, colour, { name: "fill", label: "Insulation", values: ["none", "synthetic", "down"] }],
        [7900, 59900],
      ),
      leaf(
        "Shoes",
        "sneaker runner boot loafer trainer",
        [{ name: "size", label: "EU size", values: ["38", "39", "40", "41", "42", "43", "44"] }, colour],
        [4900, 18900],
      ),
      leaf("Trousers", "jeans chinos trousers joggers", [size, colour, material], [3900, 12900]),
      leaf("Dresses", "dress gown sundress", [size, colour, material], [3900, 19900]),
    ],
  },
  {
    name: "Home & Kitchen",
    brands: [
      "Le Creuset",
      "Crème Cuisine",
      "Tefal",
      "Lodge",
      "Staub",
      "Ikea",
      "Muji",
      "Bodum",
      "Smeg",
      "KitchenAid",
    ],
    leaves: [
      leaf(
        "Cookware",
        "skillet saucepan wok kettle pot pan",
        [material, { name: "diameter", label: "Diameter", values: ["20", "24", "28"] }],
        [2900, 39900],
      ),
      leaf(
        "Coffee",
        "espresso beans blend roast",
        [
          { name: "roast", label: "Roast", values: ["light", "medium", "dark"] },
          { name: "origin", label: "Origin", values: ["Ethiopia", "Colombia", "Brazil", "Kenya"] },
        ],
        [900, 4900],
      ),
      leaf("Furniture", "chair table desk sofa shelf", [material, colour], [4900, 199900]),
      leaf("Bedding", "duvet pillow sheet blanket", [size, material], [1900, 29900]),
      leaf("Appliances", "blender toaster mixer grinder", [colour], [2900, 79900]),
    ],
  },
  {
    name: "Sports & Outdoors",
    brands: ["Salomon", "Black Diamond", "Osprey", "Garmin", "Yeti", "Thule", "Decathlon", "Petzl"],
    leaves: [
      leaf(
        "Tents",
        "tent shelter tarp",
        [{ name: "capacity", label: "Capacity", values: ["1-person", "2-person", "4-person"] }],
        [9900, 79900],
      ),
      leaf(
        "Backpacks",
        "backpack rucksack daypack",
        [{ name: "volume", label: "Volume", values: ["20L", "30L", "45L", "65L"] }, colour],
        [4900, 34900],
      ),
      leaf(
        "Bicycles",
        "bicycle bike ebike",
        [{ name: "frame", label: "Frame", values: ["S", "M", "L"] }, material],
        [39900, 499900],
      ),
      leaf("Watches", "watch smartwatch tracker", [colour], [9900, 99900]),
    ],
  },
  {
    name: "Books",
    brands: ["Penguin", "O'Reilly", "Gallimard", "Suhrkamp", "Anagrama", "Vintage", "Faber"],
    leaves: [
      leaf(
        "Fiction",
        "novel anthology stories",
        [{ name: "format", label: "Format", values: ["hardcover", "paperback", "ebook"] }],
        [900, 3900],
      ),
      leaf(
        "Cookbooks",
        "cookbook recipes baking",
        [{ name: "format", label: "Format", values: ["hardcover", "paperback"] }],
        [1500, 4900],
      ),
      leaf(
        "Travel guides",
        "guide handbook atlas",
        [{ name: "format", label: "Format", values: ["hardcover", "paperback", "ebook"] }],
        [900, 3900],
      ),
    ],
  },
];

const ADJECTIVES = [
  "lightweight",
  "waterproof",
  "wireless",
  "compact",
  "premium",
  "classic",
  "organic",
  "durable",
  "portable",
  "slim",
  "ergonomic",
  "vintage",
  "modern",
  "quiet",
  "rugged",
  "foldable",
];
const MODELS = [
  "Aero",
  "Forge",
  "Nimbus",
  "Vector",
  "Quill",
  "Atlas",
  "Pulse",
  "Orbit",
  "Lumen",
  "Echo",
  "Glide",
  "Spark",
  "Halo",
  "Nova",
  "Summit",
  "Ridge",
  "Drift",
  "Tempo",
];
const SENTENCES = [
  "Built for everyday use with a focus on comfort and reliability.",
  "Designed in small batches and tested by our team for months.",
  "A favourite of travellers, students and professionals alike.",
  "Easy to clean, easy to store, and backed by a two-year warranty.",
  "Made with recycled materials wherever we could.",
  "Pairs well with the rest of the collection.",
  "Ships in plastic-free packaging.",
];

function generate(count: number): SearchDocument[] {
  const categories: { ids: string[]; names: string[]; leaf: Leaf; brands: string[] }[] = [];
  let categoryNumber = 0;
  const hex = (kind: number, n: number) =>
    `6955b9006e6578${kind.toString(16).padStart(2, "0")}${n.toString(16).padStart(8, "0")}`;
  for (const department of DEPARTMENTS) {
    const departmentId = hex(1, ++categoryNumber);
    for (const child of department.leaves) {
      categories.push({
        ids: [hex(1, ++categoryNumber), departmentId],
        names: [child.name, department.name],
        leaf: child,
        brands: department.brands,
      });
    }
  }
  const documents: SearchDocument[] = [];
  for (let n = 1; n <= count; n++) {
    const category = pick(categories);
    const brand = pick(category.brands);
    const noun = pick(category.leaf.nouns);
    const adjective = pick(ADJECTIVES);
    const model = pick(MODELS);
    const name = `${brand} ${model} ${adjective} ${noun} ${100 + (n % 900)}`;
    const attributes = category.leaf.attributes.map((a) => ({
      name: a.name,
      label: a.label,
      value: pick(a.values),
    }));
    const [low, high] = category.leaf.price;
    documents.push({
      id: hex(2, n),
      sku: `${category.names[0]?.slice(0, 3).toUpperCase()}-${String(n).padStart(6, "0")}`,
      name,
      brand,
      categoryIds: category.ids,
      categoryNames: category.names,
      tags: [pick(ADJECTIVES), pick(["gift", "bestseller", "new", "sale", "eco"])],
      attributes,
      description: `${name} by ${brand}: ${attributes.map((a) => `${a.label.toLowerCase()} ${a.value}`).join(", ")}. ${pick(SENTENCES)} ${pick(SENTENCES)}`,
      price: Math.round((low + random() * (high - low)) / 100) * 100 - 1,
      currencyCode: "USD",
      inStock: random() > 0.1,
      popularity: Math.floor(random() ** 3 * 1000),
      rating: Math.round(random() * 50) / 10,
    });
  }
  return documents;
}

/** A typo a shopper makes: one letter swapped with its neighbour, in a word long enough to forgive it. */
function typo(word: string): string {
  if (word.length < 5) return word;
  const i = 1 + Math.floor(random() * (word.length - 2));
  return word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2);
}

function queriesFor(documents: readonly SearchDocument[], count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const doc = pick(documents);
    const words = doc.name.split(" ");
    const noun = words[words.length - 2] ?? "";
    const adjective = words[words.length - 3] ?? "";
    const attribute = doc.attributes[0]?.value ?? adjective;
    const brand = doc.brand.split(" ")[0] ?? "";
    const shape = i % 4;
    const query =
      shape === 0
        ? [brand, adjective, noun]
        : shape === 1
          ? [adjective, noun, attribute]
          : shape === 2
            ? [brand, typo(noun), doc.categoryNames[0] ?? ""]
            : [brand, adjective, noun.slice(0, Math.max(3, noun.length - 2))];
    out.push(query.join(" "));
  }
  return out;
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const ms = (value: number) => `${value.toFixed(2)} ms`;

const documents = generate(productCount);
globalThis.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const engine = createEmbeddedSearchEngine();
const buildStart = performance.now();
for (let i = 0; i < documents.length; i += 1000) engine.upsert(documents.slice(i, i + 1000));
const buildSeconds = (performance.now() - buildStart) / 1000;
globalThis.gc?.();
const heapAfter = process.memoryUsage().heapUsed;
console.log(`products: ${engine.size().toLocaleString("en")}`);
console.log(`build: ${buildSeconds.toFixed(2)} s (target ≤ 60 s)`);
console.log(
  `heap held by the index: ${((heapAfter - heapBefore) / 2 ** 20).toFixed(0)} MiB${globalThis.gc ? "" : " (approximate: run node with --expose-gc for exact figures)"}`,
);

const queries = queriesFor(documents, queryCount);
for (const text of queries.slice(0, 20)) engine.search({ text, filters: {}, limit: 20, facets: true });
const times: number[] = [];
const totals: number[] = [];
for (const text of queries) {
  const start = performance.now();
  const result = engine.search({ text, filters: {}, limit: 20, facets: true });
  times.push(performance.now() - start);
  totals.push(result.total);
}
times.sort((a, b) => a - b);
totals.sort((a, b) => a - b);
console.log(
  `search (${queries.length} three-word queries, facets, first 20): p50 ${ms(percentile(times, 50))}, p95 ${ms(percentile(times, 95))}, p99 ${ms(percentile(times, 99))}, max ${ms(times[times.length - 1] ?? 0)} (target p95 ≤ 20 ms)`,
);
console.log(
  `  matches per query: median ${percentile(totals, 50)}, p95 ${percentile(totals, 95)}, none for ${totals.filter((t) => t === 0).length}`,
);

const prefixes = queries.map((text) => {
  const word = text.split(" ")[(text.length % 3) as 0 | 1 | 2] ?? text;
  return word.slice(0, 2 + (word.length % 4));
});
const suggestTimes: number[] = [];
for (const prefix of prefixes) {
  const start = performance.now();
  engine.suggest(prefix, 5);
  suggestTimes.push(performance.now() - start);
}
suggestTimes.sort((a, b) => a - b);
console.log(
  `suggest (${prefixes.length} prefixes of 2 to 5 letters, 5 of each kind): p50 ${ms(percentile(suggestTimes, 50))}, p95 ${ms(percentile(suggestTimes, 95))}, p99 ${ms(percentile(suggestTimes, 99))}`,
);
