import type { Money } from "@nexus/core";
import type { CategoryModel } from "../category/category.model.ts";
import type { ProductModel } from "../product/product.model.ts";
import type { ReviewModel } from "../review/review.model.ts";
import type { AttributeType } from "./collections.ts";

/**
 * The catalog's part of the demo data set (`SEED_DEMO_DATA=true`): categories, products and
 * reviews, generated deterministically so they are the same on every machine and every run.
 * The types are the catalog's own models, in the form the seed writes them.
 */

/** A category as seeded: its model without the ancestor path, which the seed works out. */
export type DemoCategory = Omit<CategoryModel, "ancestorIds">;

/**
 * A product as seeded: its model with prices in minor units of the store currency and an
 * ISO-8601 creation time; the rating is derived from the demo reviews, `updatedAt` is the
 * seeding time. The id (24 hex, fixed) is the one inventory's demo stock and orders refer to.
 */
export type DemoProduct = Omit<
  ProductModel,
  "price" | "compareAtPrice" | "rating" | "createdAt" | "updatedAt"
> & {
  price: Money["amount"];
  compareAtPrice: Money["amount"] | null;
  createdAt: string;
};

/** A review as seeded, submitted at an ISO-8601 time and moderated then if not PENDING. */
export type DemoReview = Omit<ReviewModel, "submittedAt" | "moderatedAt" | "helpfulCount" | "screening"> & {
  submittedAt: string;
};

/**
 * The users subgraph's demo reviewers (its db/demo.ts) have these ids (UUID version 4 shape).
 * Subgraphs share no code, so the ids are written here as well and tools/src/demo.test.ts checks
 * that the two lists agree.
 */
const DEMO_REVIEWER_IDS: readonly string[] = Array.from(
  { length: 20 },
  (_, index) => `d3e0c0de-0000-4000-8000-${(index + 1).toString(16).padStart(12, "0")}`,
);

type Choice = readonly string[];

interface AttributeSpec {
  label: string;
  type: AttributeType;
  unit?: string;
  /** Values products pick from; also the allowed values unless `open`. */
  values: Choice;
  /** Any value of the type is allowed (the list only feeds the generator). */
  open?: boolean;
}

interface CategorySpec {
  slug: string;
  name: string;
  description: string;
  parent: string | null;
  /** Products are generated only for leaf categories that have nouns. */
  nouns: Choice;
  brands: Choice;
  tags: Choice;
  attributes: Record<string, AttributeSpec>;
  priceRange: [number, number];
  sku: string;
}

const text = (label: string, values: Choice): AttributeSpec => ({ label, type: "TEXT", values });
const bool = (label: string): AttributeSpec => ({ label, type: "BOOLEAN", values: ["true", "false"] });
const num = (label: string, unit: string, values: Choice): AttributeSpec => ({
  label,
  type: "NUMBER",
  unit,
  values,
  open: true,
});

const CATEGORIES: readonly CategorySpec[] = [
  {
    slug: "electronics",
    name: "Electronics",
    description: "Computers, phones and audio.",
    parent: null,
    nouns: [],
    brands: [],
    tags: [],
    attributes: {},
    priceRange: [0, 0],
    sku: "ELE",
  },
  {
    slug: "laptops",
    name: "Laptops",
    description: "Notebooks for work, study and play.",
    parent: "electronics",
    nouns: ["Aero", "Forge", "Nimbus", "Vector", "Quill", "Atlas", "Pulse", "Orbit"],
    brands: ["Lenovo", "Dell", "Apple", "Asus", "Acer", "HP"],
    tags: ["portable", "work", "gaming", "student", "creator"],
    attributes: {
      cpu: text("Processor", ["4-core", "8-core", "12-core", "16-core"]),
      ram: text("Memory", ["8GB", "16GB", "32GB", "64GB"]),
      storage: text("Storage", ["256GB", "512GB", "1TB", "2TB"]),
      screen: num("Screen size", "in", ["13.3", "14", "15.6", "16"]),
      touchscreen: bool("Touchscreen"),
    },
    priceRange: [69900, 349900],
    sku: "LAP",
  },
  {
    slug: "phones",
    name: "Phones",
    description: "Smartphones, unlocked.",
    parent: "electronics",
    nouns: ["Lumen", "Echo", "Glide", "Spark", "Halo", "Nova"],
    brands: ["Samsung", "Apple", "Google", "Xiaomi", "Motorola"],
    tags: ["5g", "camera", "compact", "unlocked"],
    attributes: {
      storage: text("Storage", ["128GB", "256GB", "512GB"]),
      colour: text("Colour", ["black", "white", "blue", "green"]),
      screen: num("Screen size", "in", ["6.1", "6.4", "6.7"]),
      dual_sim: bool("Dual SIM"),
    },
    priceRange: [29900, 139900],
    sku: "PHO",
  },
  {
    slug: "headphones",
    name: "Headphones",
    description: "Over-ear, on-ear and in-ear audio.",
    parent: "electronics",
    nouns: ["Studio", "Drift", "Tempo", "Hush", "Bass One", "Aria"],
    brands: ["Sony", "Bose", "Sennheiser", "Müller Audio", "Jabra"],
    tags: ["wireless", "noise cancelling", "travel", "sport"],
    attributes: {
      form: text("Form factor", ["over-ear", "on-ear", "in-ear"]),
      wireless: bool("Wireless"),
      battery_hours: num("Battery life", "h", ["20", "30", "40", "60"]),
      colour: text("Colour", ["black", "white", "silver"]),
    },
    priceRange: [4900, 44900],
    sku: "HEA",
  },
  {
    slug: "apparel",
    name: "Apparel",
    description: "Clothing and footwear.",
    parent: null,
    nouns: [],
    brands: [],
    tags: [],
    attributes: {},
    priceRange: [0, 0],
    sku: "APP",
  },
  {
    slug: "t-shirts",
    name: "T-shirts",
    description: "Tees for every day.",
    parent: "apparel",
    nouns: ["Classic Tee", "Pocket Tee", "Organic Tee", "Graphic Tee", "Long Sleeve Tee"],
    brands: ["Patagonia", "Uniqlo", "Levi's", "Everlane", "Arket"],
    tags: ["casual", "summer", "basics", "organic"],
    attributes: {
      size: text("Size", ["XS", "S", "M", "L", "XL"]),
      colour: text("Colour", ["black", "white", "navy", "grey", "red"]),
      fabric: text("Fabric", ["cotton", "organic cotton", "linen blend"]),
    },
    priceRange: [1500, 4500],
    sku: "TSH",
  },
  {
    slug: "shoes",
    name: "Shoes",
    description: "Sneakers, boots and loafers.",
    parent: "apparel",
    nouns: ["Runner", "Trail", "Court", "Loafer", "Boot"],
    brands: ["Nike", "Adidas", "New Balance", "Vans", "Clarks"],
    tags: ["running", "outdoor", "casual", "formal"],
    attributes: {
      size: num("EU size", "EU", ["38", "39", "40", "41", "42", "43", "44", "45"]),
      colour: text("Colour", ["black", "white", "brown", "grey"]),
      width: text("Width", ["narrow", "regular", "wide"]),
      waterproof: bool("Waterproof"),
    },
    priceRange: [4900, 18900],
    sku: "SHO",
  },
  {
    slug: "jackets",
    name: "Jackets",
    description: "Shells, parkas and puffers.",
    parent: "apparel",
    nouns: ["Parka", "Shell", "Puffer", "Windbreaker", "Fleece"],
    brands: ["Patagonia", "The North Face", "Arc'teryx", "Fjällräven"],
    tags: ["outdoor", "winter", "rain", "hiking"],
    attributes: {
      size: text("Size", ["S", "M", "L", "XL"]),
      colour: text("Colour", ["black", "navy", "olive", "orange"]),
      waterproof: bool("Waterproof"),
      fill: text("Insulation", ["none", "synthetic", "down"]),
    },
    priceRange: [7900, 59900],
    sku: "JAC",
  },
  {
    slug: "books",
    name: "Books",
    description: "Guides, handbooks and anthologies.",
    parent: null,
    nouns: ["Field Guide", "Handbook", "Atlas", "Anthology", "Primer", "Companion"],
    brands: ["Penguin", "O'Reilly", "Gallimard", "Suhrkamp", "Anagrama"],
    tags: ["bestseller", "gift", "reference", "new release"],
    attributes: {
      author: text("Author", ["A. Rivera", "B. Okafor", "C. Lindqvist", "D. Tanaka", "É. Moreau"]),
      format: text("Format", ["hardcover", "paperback", "ebook"]),
      language: text("Language", ["en", "de", "fr", "es"]),
      pages: num("Pages", "pages", ["128", "256", "320", "480", "640"]),
    },
    priceRange: [900, 5900],
    sku: "BOO",
  },
  {
    slug: "home-kitchen",
    name: "Home & Kitchen",
    description: "Coffee and cookware.",
    parent: null,
    nouns: [],
    brands: [],
    tags: [],
    attributes: {},
    priceRange: [0, 0],
    sku: "HOM",
  },
  {
    slug: "coffee",
    name: "Coffee",
    description: "Whole beans and ground coffee.",
    parent: "home-kitchen",
    nouns: ["Morning Blend", "Single Origin", "Espresso Roast", "Decaf", "Cold Brew"],
    brands: ["Café Noir", "Lavazza", "Illy", "Blue Bottle", "Tchibo"],
    tags: ["fair trade", "organic", "whole bean", "ground"],
    attributes: {
      origin: text("Origin", ["Ethiopia", "Colombia", "Brazil", "Guatemala", "Kenya"]),
      roast: text("Roast", ["light", "medium", "dark"]),
      weight_g: num("Weight", "g", ["250", "500", "1000"]),
    },
    priceRange: [1200, 4800],
    sku: "COF",
  },
  {
    slug: "cookware",
    name: "Cookware",
    description: "Pans, pots and kettles.",
    parent: "home-kitchen",
    nouns: ["Skillet", "Saucepan", "Dutch Oven", "Wok", "Kettle"],
    brands: ["Le Creuset", "Crème Cuisine", "Tefal", "Lodge", "Staub"],
    tags: ["induction", "dishwasher safe", "gift", "non-stick"],
    attributes: {
      material: text("Material", ["cast iron", "stainless steel", "aluminium", "copper"]),
      diameter_cm: num("Diameter", "cm", ["20", "24", "28", "32"]),
      induction: bool("Induction ready"),
    },
    priceRange: [2900, 39900],
    sku: "COO",
  },
];

export const PRODUCTS_PER_CATEGORY = 120;

/**
 * ObjectIds whose timestamp is 2026-01-01T00:00:00Z (`6955b900`), then `6e6578` ("nex"), a kind
 * byte and a counter: stable across machines and recognisable.
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

const slugify = (value: string): string =>
  value
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");

export function demoCategories(): DemoCategory[] {
  const ids = new Map(CATEGORIES.map((spec, index) => [spec.slug, demoId(1, index + 1)]));
  return CATEGORIES.map((spec) => ({
    id: ids.get(spec.slug) ?? "",
    slug: spec.slug,
    name: spec.name,
    description: spec.description,
    parentId: spec.parent === null ? null : (ids.get(spec.parent) ?? null),
    attributes: Object.entries(spec.attributes).map(([name, attribute]) => ({
      name,
      label: attribute.label,
      type: attribute.type,
      unit: attribute.unit ?? null,
      allowedValues: attribute.type === "TEXT" && !attribute.open ? [...attribute.values] : [],
    })),
  }));
}

const YEAR_2025 = Date.UTC(2025, 0, 1);
const HOUR = 3_600_000;

export function demoProducts(): DemoProduct[] {
  const random = mulberry32(2026);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const categories = demoCategories();
  const products: DemoProduct[] = [];
  CATEGORIES.forEach((spec, categoryIndex) => {
    if (spec.nouns.length === 0) return;
    const category = categories[categoryIndex] as DemoCategory;
    for (let i = 1; i <= PRODUCTS_PER_CATEGORY; i++) {
      const n = products.length + 1;
      const attributes = Object.entries(spec.attributes).map(([name, attribute]) => ({
        name,
        value: pick(attribute.values),
      }));
      const brand = pick(spec.brands);
      // The model number makes every name unique, so an exact-name search has one answer.
      const name = `${brand} ${pick(spec.nouns)} ${categoryIndex + 1}${String(i).padStart(3, "0")}`;
      const [low, high] = spec.priceRange;
      const price = Math.round((low + random() * (high - low)) / 100) * 100 - 1;
      const onSale = random() < 0.2;
      const tags = [pick(spec.tags), pick(spec.tags)].filter((tag, index, all) => all.indexOf(tag) === index);
      const slug = slugify(name);
      // Hour granularity on purpose: many products share a timestamp, as in a bulk import.
      const createdAt = new Date(YEAR_2025 + Math.floor(random() * 365 * 24) * HOUR).toISOString();
      products.push({
        id: demoId(2, n),
        sku: `${spec.sku}-${String(n).padStart(5, "0")}`,
        slug,
        name,
        description: `${name} by ${brand}: ${attributes.map((a) => `${spec.attributes[a.name]?.label.toLowerCase()} ${a.value}`).join(", ")}.`,
        brand,
        categoryId: category.id,
        price,
        compareAtPrice: onSale ? Math.round((price * 1.25) / 100) * 100 - 1 : null,
        attributes,
        images: [
          { url: `https://images.nexus.dev/products/${slug}/1.jpg`, alt: name },
          { url: `https://images.nexus.dev/products/${slug}/2.jpg`, alt: `${name}, detail` },
        ],
        tags,
        status: n % 37 === 0 ? "DRAFT" : n % 53 === 0 ? "ARCHIVED" : "ACTIVE",
        createdAt,
      });
      // Inventory's demo stock (its db/demo.ts) was drawn here when one generator made both, and
      // the draw stays so that every product after this one comes out exactly as before.
      if (n % 60 !== 0) random();
    }
  });
  return products;
}

const TITLES: Record<number, Choice> = {
  1: ["Disappointing", "Would not buy again", "Broke in a week"],
  2: ["Not great", "Below expectations", "Meh"],
  3: ["Okay for the price", "Does the job", "Average"],
  4: ["Very good", "Happy with it", "Solid choice"],
  5: ["Excellent", "Love it", "Best purchase this year"],
};
const BODIES: Record<number, Choice> = {
  1: ["Stopped working quickly and support was slow.", "Nothing like the photos."],
  2: ["It works, but the quality is not what I hoped for.", "Arrived late and feels cheap."],
  3: ["Fine for everyday use, nothing special.", "Good value, a few rough edges."],
  4: ["Well made and does what it says.", "Great quality, small niggles only."],
  5: ["Exceeded my expectations in every way.", "Superb quality, would recommend to anyone."],
};

export function demoReviews(): DemoReview[] {
  const random = mulberry32(4242);
  const reviews: DemoReview[] = [];
  for (const product of demoProducts()) {
    if (product.status === "DRAFT") continue;
    // Each product has its own quality, so averages spread out and RATING sorts meaningfully.
    const quality = 1.5 + random() * 3.5;
    const count = Math.floor(random() * 6);
    const start = Math.floor(random() * DEMO_REVIEWER_IDS.length);
    for (let k = 0; k < count; k++) {
      const authorId = DEMO_REVIEWER_IDS[(start + k * 7) % DEMO_REVIEWER_IDS.length] as string;
      const rating = Math.min(5, Math.max(1, Math.round(quality + (random() - 0.5) * 2)));
      const roll = random();
      const titles = TITLES[rating] ?? [];
      const bodies = BODIES[rating] ?? [];
      reviews.push({
        id: demoId(3, reviews.length + 1),
        productId: product.id,
        authorId,
        rating,
        title: titles[Math.floor(random() * titles.length)] ?? "",
        body: bodies[Math.floor(random() * bodies.length)] ?? "",
        status: roll < 0.85 ? "APPROVED" : roll < 0.95 ? "PENDING" : "REJECTED",
        verifiedPurchase: random() < 0.6,
        submittedAt: new Date(
          Date.parse(product.createdAt) + (1 + Math.floor(random() * 2000)) * HOUR,
        ).toISOString(),
      });
    }
  }
  return reviews;
}
