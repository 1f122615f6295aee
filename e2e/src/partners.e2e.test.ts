/**
 * A partner the way Apollo's own tooling builds one, against the whole supergraph: its manifest
 * written by `@apollo/generate-persisted-query-manifest` from the demo partner's operations and
 * registered in the gateway, its operations sent by Apollo Client's persisted-queries link with
 * the demo partner's API key. Then key rotation through the gateway with a short key cache, and
 * `partnerManifest` showing the usage of what ran.
 */
import { createHash, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApolloClient, ApolloLink, gql, HttpLink, InMemoryCache } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import {
  generatePersistedQueryManifest,
  type PersistedQueryManifest,
} from "@apollo/generate-persisted-query-manifest";
import { generatePersistedQueryIdsFromManifest } from "@apollo/persisted-query-lists";
import { globalId } from "@nexus/testing";
import { type Stack, startStack } from "@nexus/tools/stack";
import { repoRoot } from "@nexus/tools/subgraphs";
import { DEMO_ACCOUNTS, DEMO_PARTNER } from "@nexus/users/demo";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

/** How long the gateway reuses a key's exchange here: a revoked key stops within it. */
const KEY_CACHE_SECONDS = 1;

let stack: Stack;
let manifest: PersistedQueryManifest;
const operationsDir = mkdtempSync(join(tmpdir(), "nexus-apollo-manifest-"));

beforeAll(async () => {
  // Apollo's generator, defaults and all, over the demo partner's operation files.
  manifest = await generatePersistedQueryManifest(
    { documents: [join(repoRoot, "schema/operations/demo-partner/*.graphql")] },
    undefined,
  );
  mkdirSync(join(operationsDir, DEMO_PARTNER.name));
  writeFileSync(
    join(operationsDir, DEMO_PARTNER.name, "persisted-query-manifest.json"),
    JSON.stringify(manifest),
  );
  stack = await startStack({
    mongoUrl: inject("mongoUrl"),
    env: {
      // The gateway runs the partner's operations from this manifest, and users shows it.
      PERSISTED_OPERATIONS_DIR: operationsDir,
      PARTNER_KEY_CACHE_SECONDS: String(KEY_CACHE_SECONDS),
      PARTNER_USAGE_FLUSH_MS: "200",
    },
  });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  rmSync(operationsDir, { recursive: true, force: true });
});

/** Apollo Client as a partner runs it: ids from its manifest, never the text, its API key on every request. */
function partnerClient(apiKey: string, link?: ApolloLink): ApolloClient {
  const persisted =
    link ??
    new PersistedQueryLink(generatePersistedQueryIdsFromManifest({ loadManifest: async () => manifest }));
  return new ApolloClient({
    cache: new InMemoryCache(),
    link: persisted.concat(new HttpLink({ uri: stack.endpoint, headers: { "x-api-key": apiKey } })),
    defaultOptions: { query: { fetchPolicy: "no-cache" } },
  });
}

/** The demo partner's operations as the partner's app holds them: the files its manifest is generated from. */
const partnerOperation = (name: string) =>
  gql(readFileSync(join(repoRoot, "schema/operations/demo-partner", `${name}.graphql`), "utf8"));
const PRODUCT_FEED = partnerOperation("ProductFeed");
const ORDER_STATUS = partnerOperation("OrderStatus");
const PARTNER_MANIFEST = partnerOperation("PartnerManifest");
const NOT_REGISTERED = gql`
  query Catalog {
    products(first: 1) {
      totalCount
    }
  }
`;

interface ManifestData {
  partnerManifest: {
    client: { name: string; apiKeys: { prefix: string; lastUsedAt: string | null }[] };
    operations: { id: string; name: string; type: string; body: string; requests: number; errors: number }[];
  } | null;
}

/** Signs the demo admin in through the gateway, for the staff side of the tests. */
async function adminAuthorization(): Promise<string> {
  const admin = DEMO_ACCOUNTS.find((account) => account.role === "ADMIN");
  const response = await graphql<{ login: { accessToken: string } }>(
    "mutation ($input: LoginInput!) { login(input: $input) { accessToken } }",
    { input: { email: admin?.email, password: admin?.password } },
  );
  return `Bearer ${response.body.data?.login.accessToken}`;
}

async function graphql<T>(
  query: string,
  variables: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{
  status: number;
  body: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
}> {
  const response = await fetch(stack.endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as { data?: T } };
}

describe("a partner built with Apollo's tooling", () => {
  it("has the very manifest Nexus registers for it", async () => {
    const ours = JSON.parse(
      readFileSync(join(repoRoot, "schema/operations/demo-partner/persisted-query-manifest.json"), "utf8"),
    );
    expect(manifest).toEqual(ours);
    expect(manifest.operations.map((operation) => operation.name).sort()).toEqual([
      "OrderStatus",
      "PartnerManifest",
      "ProductFeed",
    ]);
  });

  it("runs its operations through Apollo Client's persisted-queries link, by id", async () => {
    const sent: { query?: string; hash?: string }[] = [];
    // Records what goes on the wire: the id, and no text.
    const spy = new ApolloLink((operation, forward) => {
      const body = operation.extensions as { persistedQuery?: { sha256Hash?: string } };
      sent.push({ hash: body.persistedQuery?.sha256Hash });
      return forward(operation);
    });
    const client = partnerClient(
      DEMO_PARTNER.apiKey,
      new PersistedQueryLink(
        generatePersistedQueryIdsFromManifest({ loadManifest: async () => manifest }),
      ).concat(spy),
    );

    const feed = await client.query({ query: PRODUCT_FEED, variables: { first: 5 }, errorPolicy: "all" });
    expect(feed.error).toBeUndefined();
    const page = (feed.data as { productFeed: { edges: { node: { __typename: string; status: string } }[] } })
      .productFeed;
    expect(page.edges).toHaveLength(5);
    expect(page.edges.every(({ node }) => node.__typename === "Product")).toBe(true);

    const { id } = await stack.ordersDb
      .insertInto("orders")
      .values({
        customer_id: randomUUID(),
        currency_code: "USD",
        total_amount: 4200,
        placed_at: new Date(),
        status: "PENDING",
        channel: "partner",
        partner_client: DEMO_PARTNER.name,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    const status = await client.query({ query: ORDER_STATUS, variables: { id }, errorPolicy: "all" });
    expect(status.error).toBeUndefined();
    expect(status.data).toMatchObject({
      orderStatus: { __typename: "OrderStatusReport", id: globalId("Order", id), status: "PENDING" },
    });

    const ids = new Map(manifest.operations.map((operation) => [operation.name, operation.id]));
    expect(sent.map((request) => request.hash)).toEqual([ids.get("ProductFeed"), ids.get("OrderStatus")]);
  });

  it("is refused an operation that is not in its manifest", async () => {
    // Apollo Client with the manifest cannot even name an id for it...
    const fromManifest = await partnerClient(DEMO_PARTNER.apiKey).query({
      query: NOT_REGISTERED,
      errorPolicy: "all",
    });
    expect(fromManifest.error?.message).toBe("Operation Catalog not found in manifest");
    // ...and the gateway refuses the id Apollo Client hashes for it at run time.
    const hashing = partnerClient(DEMO_PARTNER.apiKey, new PersistedQueryLink({ sha256: sha256Hex }));
    const refused = await hashing.query({ query: NOT_REGISTERED, errorPolicy: "all" });
    expect(refused.data).toBeUndefined();
    expect(refused.error).toMatchObject({
      name: "CombinedGraphQLErrors",
      errors: [{ extensions: { code: "PERSISTED_QUERY_NOT_IN_LIST" } }],
    });
  });
});

const sha256Hex = (text: string): string => createHash("sha256").update(text).digest("hex");

describe("key rotation through the gateway", () => {
  it("runs on a second key while the first is revoked, which stops within the key cache time", async () => {
    const admin = await adminAuthorization();
    const clients = await graphql<{ partnerClients: { edges: { node: { id: string; name: string } }[] } }>(
      "{ partnerClients { edges { node { id name } } } }",
      {},
      { authorization: admin },
    );
    const demo = clients.body.data?.partnerClients.edges.find(
      ({ node }) => node.name === DEMO_PARTNER.name,
    )?.node;
    const created = await graphql<{
      createPartnerApiKey: { apiKey: string; key: { id: string; prefix: string }; userErrors: unknown[] };
    }>(
      "mutation ($input: CreatePartnerApiKeyInput!) { createPartnerApiKey(input: $input) { apiKey key { id prefix } userErrors { code } } }",
      { input: { clientId: demo?.id } },
      { authorization: admin },
    );
    expect(created.body.data?.createPartnerApiKey.userErrors).toEqual([]);
    const newKey = created.body.data?.createPartnerApiKey.apiKey ?? "";
    const third = await graphql<{ createPartnerApiKey: { userErrors: { code: string }[] } }>(
      "mutation ($input: CreatePartnerApiKeyInput!) { createPartnerApiKey(input: $input) { userErrors { code } } }",
      { input: { clientId: demo?.id } },
      { authorization: admin },
    );
    expect(third.body.data?.createPartnerApiKey.userErrors).toEqual([{ code: "TOO_MANY_KEYS" }]);

    const feed = (apiKey: string) =>
      partnerClient(apiKey).query({ query: PRODUCT_FEED, variables: { first: 1 }, errorPolicy: "all" });
    expect((await feed(DEMO_PARTNER.apiKey)).error).toBeUndefined();
    expect((await feed(newKey)).error).toBeUndefined();

    const keys = await graphql<{
      partnerClients: { edges: { node: { apiKeys: { id: string; prefix: string }[] } }[] };
    }>("{ partnerClients { edges { node { name apiKeys { id prefix } } } } }", {}, { authorization: admin });
    const oldKey = keys.body.data?.partnerClients.edges
      .flatMap(({ node }) => node.apiKeys)
      .find((key) => DEMO_PARTNER.apiKey.startsWith(key.prefix));
    const revoked = await graphql<{ revokePartnerApiKey: { userErrors: unknown[] } }>(
      "mutation ($input: RevokePartnerApiKeyInput!) { revokePartnerApiKey(input: $input) { userErrors { code } } }",
      { input: { id: oldKey?.id } },
      { authorization: admin },
    );
    expect(revoked.body.data?.revokePartnerApiKey.userErrors).toEqual([]);
    const revokedAt = Date.now();

    // The old key: HTTP 401 once the gateway's cached exchange has run out, and no later.
    await expect
      .poll(
        async () => {
          const response = await fetch(stack.endpoint, {
            method: "POST",
            headers: { "content-type": "application/json", "x-api-key": DEMO_PARTNER.apiKey },
            body: JSON.stringify({ query: "{ __typename }" }),
          });
          return response.status;
        },
        { timeout: (KEY_CACHE_SECONDS + 2) * 1000, interval: 100 },
      )
      .toBe(401);
    expect(Date.now() - revokedAt).toBeLessThan((KEY_CACHE_SECONDS + 2) * 1000);
    // The new key never stopped.
    expect((await feed(newKey)).error).toBeUndefined();

    // The partner sees its usage with the new key, through its own registered operation.
    const readManifest = async () =>
      (
        await partnerClient(newKey).query({
          query: PARTNER_MANIFEST,
          variables: { days: 1 },
          errorPolicy: "all",
        })
      ).data as ManifestData;
    await expect
      .poll(async () => {
        const data = await readManifest();
        return Object.fromEntries(
          (data.partnerManifest?.operations ?? []).map((op) => [op.name, op.requests]),
        );
      })
      .toMatchObject({ ProductFeed: 4, OrderStatus: 1 });
    const data = await readManifest();
    expect(data.partnerManifest?.client.name).toBe(DEMO_PARTNER.name);
    expect(data.partnerManifest?.client.apiKeys.map((key) => key.prefix)).toEqual([
      created.body.data?.createPartnerApiKey.key.prefix,
    ]);
    expect(
      data.partnerManifest?.operations.map(({ id, name, type, body }) => ({ id, name, type, body })),
    ).toEqual([...manifest.operations].sort((a, b) => (a.name < b.name ? -1 : 1)));
    expect(data.partnerManifest?.operations.find((op) => op.name === "ProductFeed")?.errors).toBe(0);

    // Staff read the same by id; a customer is refused.
    const asStaff = await graphql<ManifestData>(
      "query ($id: ID) { partnerManifest(clientId: $id) { client { name } operations { name requests } } }",
      { id: demo?.id },
      { authorization: admin },
    );
    expect(
      asStaff.body.data?.partnerManifest?.operations.find((op) => op.name === "ProductFeed")?.requests,
    ).toBe(data.partnerManifest?.operations.find((op) => op.name === "ProductFeed")?.requests);
    const customer = await stack.auth.bearer(randomUUID(), "CUSTOMER");
    const refused = await graphql("{ partnerManifest { usageSince } }", {}, { authorization: customer });
    expect(refused.body.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});
