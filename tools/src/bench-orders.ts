/**
 * `pnpm bench:orders [--orders 1000000] [--customers 50000] [--runs 5] [--keep]`: the staff
 * order desk on a large store. Creates a fresh database, applies orders' migrations up to the
 * one before the desk's, generates the orders in a few `INSERT ... SELECT generate_series`
 * statements (lines, six statuses, many customers and some guests, two years of dates, some
 * imported), then applies the rest (0008_order_desk builds its indexes on the full table, as a
 * deploy on a live store would) and ANALYZEs. It then runs the desk's own repository statements
 * for the common filters and sorts, printing each one's median time over `--runs` and its
 * `EXPLAIN (ANALYZE, BUFFERS)` summary: the plan's nodes and the indexes they use. The database is
 * dropped at the end unless `--keep`. Not part of `pnpm test`; what it prints is in tools/README.md.
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import type { Database } from "@nexus/orders/database";
import { migrations } from "@nexus/orders/migrations";
import {
  type DeskFilter,
  type DeskPageRequest,
  type DeskSort,
  deskStatements,
  findDeskPage,
} from "@nexus/orders/order-desk";
import { createPostgresDb, databaseUrl, dropDatabase, ensureDatabase } from "@nexus/stores";
import { CompiledQuery, type Kysely, type RawBuilder, sql } from "kysely";
import { Migrator } from "kysely/migration";
import { cliChecks } from "./cli.ts";

const USAGE = "Usage: pnpm bench:orders [--orders 1000000] [--customers 50000] [--runs 5] [--keep]";

const { values } = parseArgs({
  options: {
    orders: { type: "string", default: "1000000" },
    customers: { type: "string", default: "50000" },
    runs: { type: "string", default: "5" },
    keep: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});

const { fail, whole } = cliChecks(USAGE);
if (values.help) fail("");
const orderCount = whole("orders", values.orders, 1000, 10_000_000);
const customers = whole("customers", values.customers, 1, 10_000_000);
const runs = whole("runs", values.runs, 1, 100);

const SERVER_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const url = databaseUrl(SERVER_URL, `nexus_bench_orders_${randomBytes(4).toString("hex")}`);
/** The last migration before the desk's: the data goes in first, then 0008 indexes it. */
const BEFORE_DESK = "0007_wishlist";

const log = (line: string) => process.stdout.write(`${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await work();
  log(`  ${label.padEnd(48)} ${seconds(performance.now() - start)}`);
  return result;
}

/**
 * Orders are numbered g = 1..N and every value derives from g, so the lines can name their
 * order (md5 of g as a uuid) without a join. Line p of order g: product (g*7 + p*13) mod 500,
 * quantity 1 + (g + p) mod 3; an order has 1 + g mod 4 lines (2.5 on average). About 3% are
 * guest orders, 5% imported (external_ref set, which 0008 turns into the `import` channel).
 */
async function generate(db: Kysely<Database>): Promise<void> {
  await timed(`orders (${orderCount.toLocaleString("en")})`, () =>
    sql`
      INSERT INTO orders (id, customer_id, guest_email, status, currency_code, total_amount,
                          placed_at, updated_at, external_ref)
      SELECT md5('o' || g)::uuid,
             CASE WHEN g % 33 = 0 THEN NULL ELSE md5('c' || (g::bigint * 7919) % ${customers})::uuid END,
             CASE WHEN g % 33 = 0 THEN 'guest' || g || '@example.com' END,
             CASE WHEN r < 0.70 THEN 'DELIVERED' WHEN r < 0.80 THEN 'SHIPPED'
                  WHEN r < 0.88 THEN 'CONFIRMED' WHEN r < 0.91 THEN 'PENDING'
                  WHEN r < 0.96 THEN 'CANCELLED' ELSE 'REJECTED' END,
             'USD',
             (SELECT sum((500 + ((g * 7 + p * 13) % 500) * 37) * (1 + (g + p) % 3))
                FROM generate_series(0, g % 4) AS p),
             placed,
             placed + (r * interval '10 days'),
             CASE WHEN g % 20 = 0 AND g % 33 <> 0 THEN 'INV-' || g END
      FROM (
        SELECT g, random() AS r,
               date_trunc('milliseconds', now() - random() * interval '730 days') AS placed
        FROM generate_series(1, ${orderCount}) AS g
      ) AS s
    `.execute(db),
  );
  await timed("order lines", () =>
    sql`
      INSERT INTO order_lines (order_id, position, product_id, product_name, unit_price, quantity)
      SELECT md5('o' || g)::uuid, p,
             lpad(to_hex(((g * 7 + p * 13) % 500) + 1), 24, '0'),
             (ARRAY['Walnut', 'Linen', 'Copper', 'Trail', 'Merino', 'Ceramic', 'Canvas', 'Bamboo',
                    'Velvet', 'Granite'])[((g * 7 + p * 13) % 500) % 10 + 1] || ' ' ||
             (ARRAY['Lamp', 'Shirt', 'Kettle', 'Shoes', 'Scarf', 'Mug', 'Backpack', 'Desk', 'Throw',
                    'Bowl', 'Chair', 'Jacket', 'Vase', 'Towel', 'Clock', 'Rug', 'Blanket', 'Tray',
                    'Stool', 'Candle', 'Cap', 'Bottle', 'Planter', 'Mirror', 'Basket'])
               [((g * 7 + p * 13) % 500) / 10 % 25 + 1] ||
             ' No. ' || (((g * 7 + p * 13) % 500) / 250 + 1),
             500 + ((g * 7 + p * 13) % 500) * 37,
             1 + (g + p) % 3
      FROM generate_series(1, ${orderCount}) AS g, generate_series(0, g % 4) AS p
    `.execute(db),
  );
}

interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Relation Name"?: string;
  "Shared Hit Blocks"?: number;
  "Shared Read Blocks"?: number;
  Plans?: PlanNode[];
}

function describePlan(node: PlanNode): string[] {
  const here = node["Index Name"]
    ? `${node["Node Type"]} on ${node["Index Name"]}`
    : node["Relation Name"]
      ? `${node["Node Type"]} on ${node["Relation Name"]}`
      : node["Node Type"];
  return [here, ...(node.Plans ?? []).flatMap(describePlan)];
}

async function explain(db: Kysely<Database>, statement: RawBuilder<unknown>) {
  const compiled = statement.compile(db);
  const { rows } = await db.executeQuery<{ "QUERY PLAN": [{ Plan: PlanNode; "Execution Time": number }] }>(
    CompiledQuery.raw(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${compiled.sql}`, [...compiled.parameters]),
  );
  const plan = rows[0]?.["QUERY PLAN"][0];
  if (!plan) throw new Error("EXPLAIN returned no plan");
  const nodes = describePlan(plan.Plan);
  return {
    executionMs: plan["Execution Time"],
    nodes: nodes.filter((node, i) => nodes.indexOf(node) === i),
    seqScan: nodes.some((node) => node.startsWith("Seq Scan")),
    buffers: { hit: plan.Plan["Shared Hit Blocks"] ?? 0, read: plan.Plan["Shared Read Blocks"] ?? 0 },
  };
}

const median = (samples: number[]): number => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

async function measure(db: Kysely<Database>, statement: RawBuilder<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await statement.execute(db);
    samples.push(performance.now() - start);
  }
  return median(samples);
}

const NO_FILTER: DeskFilter = {
  statuses: null,
  placedAfter: null,
  placedBefore: null,
  customerId: null,
  search: null,
};

async function main(): Promise<void> {
  log(`bench:orders: ${orderCount.toLocaleString("en")} orders, ${customers.toLocaleString("en")} customers`);
  await ensureDatabase(url);
  const db = createPostgresDb<Database>(url);
  try {
    log("building the store");
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    const before = await migrator.migrateTo(BEFORE_DESK);
    if (before.error) throw before.error;
    await generate(db);
    const desk = await timed("migrations from 0008_order_desk (indexes)", () => migrator.migrateToLatest());
    if (desk.error) throw desk.error;
    await timed("VACUUM ANALYZE", async () => {
      await sql`VACUUM ANALYZE orders`.execute(db);
      await sql`VACUUM ANALYZE order_lines`.execute(db);
    });
    const sizes = await sql<{ orders: number; lines: number; size: string }>`
      SELECT (SELECT count(*)::int FROM orders) AS orders, (SELECT count(*)::int FROM order_lines) AS lines,
             pg_size_pretty(pg_database_size(current_database())) AS size`.execute(db);
    const size = sizes.rows[0];
    log(
      `  ${size?.orders.toLocaleString("en")} orders, ${size?.lines.toLocaleString("en")} lines, ${size?.size}`,
    );

    // Real values to filter by: a busy customer, an order in the middle, a guest's email.
    const sample = await sql<{ id: string; customer_id: string; placed_at: Date }>`
      SELECT id, customer_id, placed_at FROM orders WHERE customer_id IS NOT NULL
      ORDER BY placed_at DESC, id DESC OFFSET ${Math.floor(orderCount / 2)} LIMIT 1`.execute(db);
    const middle = sample.rows[0];
    if (!middle) throw new Error("no orders generated");
    const guest = await sql<{ guest_email: string }>`
      SELECT guest_email FROM orders WHERE guest_email IS NOT NULL LIMIT 1`.execute(db);
    const now = Date.now();
    const day = 86_400_000;
    const page = (filter: Partial<DeskFilter>, sort: DeskSort = "PLACED_AT_DESC"): DeskPageRequest => ({
      filter: { ...NO_FILTER, ...filter },
      sort,
      after: null,
      limit: 21,
    });
    const cases: [string, DeskPageRequest][] = [
      ["newest first, first page", page({})],
      [
        "newest first, page from the middle (cursor)",
        { ...page({}), after: { value: middle.placed_at, id: middle.id } },
      ],
      ["oldest first", page({}, "PLACED_AT_ASC")],
      ["recently changed first", page({}, "UPDATED_AT_DESC")],
      ["largest total first", page({}, "TOTAL_DESC")],
      ["status CONFIRMED (to ship)", page({ statuses: ["CONFIRMED"] })],
      ["status CONFIRMED or PENDING", page({ statuses: ["CONFIRMED", "PENDING"] })],
      ["status PENDING, oldest first", page({ statuses: ["PENDING"] }, "PLACED_AT_ASC")],
      ["placed in the last 7 days", page({ placedAfter: new Date(now - 7 * day) })],
      [
        "placed in one month a year ago",
        page({ placedAfter: new Date(now - 395 * day), placedBefore: new Date(now - 365 * day) }),
      ],
      [
        "status SHIPPED in the last 30 days",
        page({ statuses: ["SHIPPED"], placedAfter: new Date(now - 30 * day) }),
      ],
      ["one customer", page({ customerId: middle.customer_id })],
      ["search: whole order id", page({ search: { kind: "id", id: middle.id } })],
      [
        "search: order id prefix (8 hex)",
        page({
          search: {
            kind: "idPrefix",
            low: `${middle.id.slice(0, 8)}-0000-0000-0000-000000000000`,
            high: `${middle.id.slice(0, 8)}-ffff-ffff-ffff-ffffffffffff`,
          },
        }),
      ],
      ["search: guest email", page({ search: { kind: "email", email: guest.rows[0]?.guest_email ?? "" } })],
      [
        "search: product name, rare ('Trail Desk No. 2')",
        page({ search: { kind: "productName", pattern: "%Trail Desk No. 2%" } }),
      ],
      ["search: product name, common ('Lamp')", page({ search: { kind: "productName", pattern: "%Lamp%" } })],
      [
        "search: product name + status CONFIRMED",
        page({ statuses: ["CONFIRMED"], search: { kind: "productName", pattern: "%Walnut Lamp%" } }),
      ],
    ];

    log("");
    log(`desk queries: median of ${runs} runs; page = first 20 (+1), count = totalCount`);
    for (const [label, request] of cases) {
      const statements = deskStatements(request);
      const rows = await findDeskPage(db, request);
      const pageMs = await measure(db, statements.page);
      const countMs = await measure(db, statements.count);
      const pagePlan = await explain(db, statements.page);
      const countPlan = await explain(db, statements.count);
      const count = (await statements.count.execute(db)).rows[0]?.count ?? 0;
      log("");
      log(`${label}: ${rows.length} rows on the page, ${count.toLocaleString("en")} in all`);
      log(
        `  page  ${pageMs.toFixed(1).padStart(8)} ms  ${pagePlan.seqScan ? "SEQ SCAN " : ""}${pagePlan.nodes.join(" > ")}  (buffers hit ${pagePlan.buffers.hit}, read ${pagePlan.buffers.read})`,
      );
      log(
        `  count ${countMs.toFixed(1).padStart(8)} ms  ${countPlan.seqScan ? "SEQ SCAN " : ""}${countPlan.nodes.join(" > ")}  (buffers hit ${countPlan.buffers.hit}, read ${countPlan.buffers.read})`,
      );
    }
  } finally {
    await db.destroy();
    if (values.keep) log(`\nkept ${url.replace(/\/\/[^@]*@/, "//")}`);
    else await dropDatabase(url);
  }
}

await main();
