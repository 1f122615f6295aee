/**
 * The demo data set `pnpm start` seeds: deterministic, so every subgraph can seed its own
 * part (catalog the products, inventory their stock) without reading another's database.
 */

export const DEMO_ACCOUNTS = [
  { email: "customer@nexus.dev", password: "nexus-customer", name: "Demo Customer", role: "CUSTOMER" },
  { email: "admin@nexus.dev", password: "nexus-admin", name: "Demo Admin", role: "ADMIN" },
] as const;

/**
 * A partner client for trying partner access locally (`x-api-key`). Its key is public, so
 * it is only ever created with the demo data, which production never seeds.
 */
export const DEMO_PARTNER = {
  name: "demo-partner",
  apiKey: "nxp_demopart_local-demo-partner-key-never-use-in-prodxxx",
} as const;

export interface DemoCategory {
  id: string;
  slug: string;
  name: string;
}

export interface DemoProduct {
  /** 24-hex ObjectId, fixed so other subgraphs can seed data about the same products. */
  id: string;
  slug: string;
  name: string;
  description: string;
  categoryId: string;
  /** Minor units. */
  price: number;
  attributes: { key: string; value: string }[];
  /** Units on hand, for inventory. */
  stock: number;
}

type Choice = readonly string[];
interface CategorySpec {
  slug: string;
  name: string;
  nouns: Choice;
  attributes: Record<string, Choice>;
  priceRange: [number, number];
}

const CATEGORIES: readonly CategorySpec[] = [
  {
    slug: "laptops",
    name: "Laptops",
    nouns: ["Aero", "Forge", "Nimbus", "Vector", "Quill", "Atlas", "Pulse", "Orbit"],
    attributes: {
      cpu: ["4-core", "8-core", "12-core", "16-core"],
      ram: ["8GB", "16GB", "32GB", "64GB"],
      storage: ["256GB", "512GB", "1TB", "2TB"],
      screen: ["13in", "14in", "15in", "16in"],
    },
    priceRange: [69900, 349900],
  },
  {
    slug: "phones",
    name: "Phones",
    nouns: ["Lumen", "Echo", "Glide", "Spark", "Halo", "Nova"],
    attributes: {
      storage: ["128GB", "256GB", "512GB"],
      colour: ["black", "white", "blue", "green"],
      screen: ["6.1in", "6.4in", "6.7in"],
    },
    priceRange: [29900, 139900],
  },
  {
    slug: "t-shirts",
    name: "T-shirts",
    nouns: ["Classic Tee", "Pocket Tee", "Organic Tee", "Graphic Tee", "Long Sleeve Tee"],
    attributes: {
      size: ["XS", "S", "M", "L", "XL"],
      colour: ["black", "white", "navy", "grey", "red"],
      material: ["cotton", "organic cotton", "linen blend"],
    },
    priceRange: [1500, 4500],
  },
  {
    slug: "shoes",
    name: "Shoes",
    nouns: ["Runner", "Trail", "Court", "Loafer", "Boot"],
    attributes: {
      size: ["38", "39", "40", "41", "42", "43", "44", "45"],
      colour: ["black", "white", "brown", "grey"],
      width: ["narrow", "regular", "wide"],
    },
    priceRange: [4900, 18900],
  },
  {
    slug: "books",
    name: "Books",
    nouns: ["Field Guide", "Handbook", "Atlas", "Anthology", "Primer", "Companion"],
    attributes: {
      author: ["A. Rivera", "B. Okafor", "C. Lindqvist", "D. Tanaka", "E. Moreau"],
      format: ["hardcover", "paperback", "ebook"],
      language: ["en", "de", "fr", "es"],
    },
    priceRange: [900, 5900],
  },
  {
    slug: "coffee",
    name: "Coffee",
    nouns: ["Morning Blend", "Single Origin", "Espresso Roast", "Decaf", "Cold Brew"],
    attributes: {
      origin: ["Ethiopia", "Colombia", "Brazil", "Guatemala", "Kenya"],
      roast: ["light", "medium", "dark"],
      weight: ["250g", "500g", "1kg"],
    },
    priceRange: [1200, 4800],
  },
];

export const PRODUCTS_PER_CATEGORY = 40;

/**
 * ObjectIds whose timestamp is 2026-01-01T00:00:00Z (`6955b900`), then `6e6578` ("nex"), a kind
 * byte and a counter: stable across machines, recognisable, and older than anything created
 * later, so "newest first" (by `_id`) stays true once real products are added.
 */
const demoId = (kind: number, n: number) =>
  `6955b9006e6578${kind.toString(16).padStart(2, "0")}${n.toString(16).padStart(8, "0")}`;

/** A tiny deterministic generator, so the data set is the same on every machine. */
function mulberry32(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function demoCategories(): DemoCategory[] {
  return CATEGORIES.map((spec, index) => ({ id: demoId(1, index + 1), slug: spec.slug, name: spec.name }));
}

export function demoProducts(): DemoProduct[] {
  const random = mulberry32(2026);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const categories = demoCategories();
  const products: DemoProduct[] = [];
  CATEGORIES.forEach((spec, categoryIndex) => {
    const category = categories[categoryIndex] as DemoCategory;
    for (let i = 1; i <= PRODUCTS_PER_CATEGORY; i++) {
      const attributes = Object.entries(spec.attributes).map(([key, values]) => ({
        key,
        value: pick(values),
      }));
      const noun = pick(spec.nouns);
      const name = `${noun} ${categoryIndex + 1}${String(i).padStart(2, "0")}`;
      const [low, high] = spec.priceRange;
      const price = Math.round((low + random() * (high - low)) / 100) * 100 - 1;
      products.push({
        id: demoId(2, products.length + 1),
        slug: `${spec.slug}-${name.toLowerCase().replaceAll(" ", "-")}`,
        name,
        description: `${name}: ${attributes.map((a) => `${a.key} ${a.value}`).join(", ")}.`,
        categoryId: category.id,
        price,
        attributes,
        stock: Math.floor(random() * 120) + (i % 10 === 0 ? 0 : 5),
      });
    }
  });
  return products;
}
