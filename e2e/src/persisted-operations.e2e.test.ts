/**
 * The demo partner's shipped operations, run by id through the gateway with the demo partner's
 * API key, against the whole supergraph: proof that schema/operations/demo-partner and its
 * manifest match the real subgraphs, scopes and all.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { globalId } from "@nexus/testing";
import type { PersistedQueryManifest } from "@nexus/tools/persisted-query-manifest";
import { type Stack, startStack } from "@nexus/tools/stack";
import { repoRoot } from "@nexus/tools/subgraphs";
import { DEMO_PARTNER } from "@nexus/users/demo";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ mongoUrl: inject("mongoUrl") });
}, 120_000);
afterAll(() => stack?.stop());

const manifest = JSON.parse(
  readFileSync(`${repoRoot}schema/operations/demo-partner/persisted-query-manifest.json`, "utf8"),
) as PersistedQueryManifest;

function idOf(name: string): string {
  const operation = manifest.operations.find((candidate) => candidate.name === name);
  if (!operation) throw new Error(`${name} is not in the demo partner's manifest`);
  return operation.id;
}

interface Response<T> {
  status: number;
  body: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
}

/** As an Apollo client with persisted queries sends an operation: its id, never its text. */
async function asPartner<T>(payload: {
  id?: string;
  query?: string;
  variables?: Record<string, unknown>;
}): Promise<Response<T>> {
  const response = await fetch(stack.endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": DEMO_PARTNER.apiKey },
    body: JSON.stringify({
      query: payload.query,
      variables: payload.variables ?? {},
      extensions: payload.id ? { persistedQuery: { version: 1, sha256Hash: payload.id } } : undefined,
    }),
  });
  return { status: response.status, body: (await response.json()) as Response<T>["body"] };
}

interface FeedPage {
  productFeed: {
    edges: {
      cursor: string;
      node: {
        id: string;
        sku: string;
        status: string;
        price: { amount: number; currencyCode: string };
        category: { slug: string; path: string };
        updatedAt: string;
      };
    }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    totalCount: number;
  };
}

describe("the demo partner's persisted operations", () => {
  it("runs ProductFeed by id: the catalog in (updatedAt, id) order, page after page", async () => {
    const first = await asPartner<FeedPage>({ id: idOf("ProductFeed"), variables: { first: 50 } });
    expect(first.status).toBe(200);
    expect(first.body.errors).toBeUndefined();
    const feed = first.body.data?.productFeed;
    expect(feed?.edges).toHaveLength(50);
    expect(feed?.totalCount).toBeGreaterThan(50);
    expect(feed?.pageInfo.hasNextPage).toBe(true);
    for (const { node } of feed?.edges ?? []) {
      expect(["ACTIVE", "ARCHIVED"]).toContain(node.status);
      expect(node.price.currencyCode).toBe("USD");
      expect(node.category.path).toContain(node.category.slug);
    }
    const keys = (feed?.edges ?? []).map(({ node }) => [node.updatedAt, node.id].join(" "));
    expect(keys).toEqual([...keys].sort());

    const second = await asPartner<FeedPage>({
      id: idOf("ProductFeed"),
      variables: { first: 50, after: feed?.pageInfo.endCursor },
    });
    expect(second.body.errors).toBeUndefined();
    const next = second.body.data?.productFeed.edges ?? [];
    expect(next).toHaveLength(50);
    expect(next.map(({ node }) => node.id)).not.toContain(feed?.edges[0]?.node.id);

    const latest = next.at(-1)?.node.updatedAt;
    const since = await asPartner<FeedPage>({
      id: idOf("ProductFeed"),
      variables: { first: 50, updatedSince: latest },
    });
    expect(since.body.data?.productFeed.edges.every(({ node }) => node.updatedAt >= (latest ?? ""))).toBe(
      true,
    );
    expect(since.body.data?.productFeed.totalCount).toBeLessThan(feed?.totalCount ?? 0);
  });

  it("runs OrderStatus by id: status and history of the partner's own orders, null for any other", async () => {
    const placedAt = new Date("2026-04-01T09:00:00.000Z");
    const insertOrder = async (
      channel: { channel: "partner"; partner_client: string } | { channel: "storefront" },
    ) => {
      const { id } = await stack.ordersDb
        .insertInto("orders")
        .values({
          customer_id: randomUUID(),
          currency_code: "USD",
          total_amount: 4200,
          placed_at: placedAt,
          status: "PENDING",
          ...channel,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      await stack.ordersDb
        .insertInto("order_status_changes")
        .values({ order_id: id, status: "PENDING", at: placedAt })
        .execute();
      return id;
    };
    const id = await insertOrder({ channel: "partner", partner_client: DEMO_PARTNER.name });
    const storefront = await insertOrder({ channel: "storefront" });

    const found = await asPartner<{ orderStatus: unknown }>({ id: idOf("OrderStatus"), variables: { id } });
    expect(found.status).toBe(200);
    expect(found.body.errors).toBeUndefined();
    expect(found.body).toMatchObject({
      data: {
        orderStatus: {
          id: globalId("Order", id),
          status: "PENDING",
          statusHistory: [{ status: "PENDING", at: placedAt.toISOString() }],
          placedAt: placedAt.toISOString(),
          updatedAt: expect.any(String),
        },
      },
    });
    const none = await asPartner({ id: idOf("OrderStatus"), variables: { id: randomUUID() } });
    expect(none.body).toMatchObject({ data: { orderStatus: null } });
    expect(none.body.errors).toBeUndefined();
    // An order placed through the storefront answers exactly like one that does not exist.
    const notTheirs = await asPartner({ id: idOf("OrderStatus"), variables: { id: storefront } });
    expect(notTheirs.body).toMatchObject({ data: { orderStatus: null } });
    expect(notTheirs.body.errors).toBeUndefined();
  });

  it("refuses the demo partner anything else: other text, its own text, unknown ids", async () => {
    const freeform = await asPartner({ query: "{ products(first: 1) { totalCount } }" });
    expect([freeform.status, freeform.body.errors?.[0]?.extensions?.code]).toEqual([
      403,
      "QUERY_NOT_IN_SAFELIST",
    ]);
    const ownText = manifest.operations.find((operation) => operation.name === "OrderStatus")?.body;
    const text = await asPartner({ query: ownText, variables: { id: randomUUID() } });
    expect([text.status, text.body.errors?.[0]?.extensions?.code]).toEqual([
      400,
      "PERSISTED_QUERY_ID_REQUIRED",
    ]);
    const unknown = await asPartner({ id: "0".repeat(64) });
    expect([unknown.status, unknown.body.errors?.[0]?.extensions?.code]).toEqual([
      404,
      "PERSISTED_QUERY_NOT_IN_LIST",
    ]);
  });
});
