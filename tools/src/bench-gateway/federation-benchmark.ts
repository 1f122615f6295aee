/**
 * The shape of the public federation gateway benchmark (graphql-hive/federation-benchmarks,
 * "constant-vus"): four small in-memory subgraphs (accounts, products, inventory, reviews) and
 * its nested query, with data generated here and sized so one answer is about 87 KB. Gateways
 * are compared on it because it is what their authors publish numbers for.
 */
import { composeServices } from "@apollo/composition";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { startStandaloneServer } from "@apollo/server/standalone";
import { buildSubgraphSchema, type GraphQLResolverMap } from "@apollo/subgraph";
import { parse } from "graphql";

const LINK = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@external", "@requires", "@shareable"])`;

const SDL = {
  accounts: `${LINK}
    type Query { me: User users: [User] }
    type User @key(fields: "id") { id: ID! name: String username: String }`,
  products: `${LINK}
    type Query { topProducts(first: Int = 5): [Product] }
    type Product @key(fields: "upc") { upc: String! name: String price: Int weight: Int }`,
  inventory: `${LINK}
    type Product @key(fields: "upc") {
      upc: String!
      weight: Int @external
      price: Int @external
      inStock: Boolean
      shippingEstimate: Int @requires(fields: "price weight")
    }`,
  reviews: `${LINK}
    type Review { id: ID! body: String author: User product: Product }
    type User @key(fields: "id") { id: ID! reviews: [Review] }
    type Product @key(fields: "upc") { upc: String! reviews: [Review] }`,
} as const;

export type BenchmarkSubgraph = keyof typeof SDL;

/** The benchmark's query: users and top products, each three levels of reviews deep. */
const PRODUCT_LEAF = "inStock name price shippingEstimate upc weight";
const NESTED = `id username name reviews { id body product { ${PRODUCT_LEAF} reviews { id body author { id username name reviews { id body product { ${PRODUCT_LEAF} } } } } } }`;
export const BENCHMARK_QUERY = `query TestQuery {
  users { ${NESTED} }
  topProducts { ${PRODUCT_LEAF} reviews { id body author { ${NESTED} } } }
}`;

/** How much data there is: with these the answer to BENCHMARK_QUERY is about 87 KB. */
export interface BenchmarkData {
  users: number;
  products: number;
  reviewsPerUser: number;
}
export const DEFAULT_DATA: BenchmarkData = { users: 8, products: 5, reviewsPerUser: 2 };

interface User {
  id: string;
  name: string;
  username: string;
}
interface Product {
  upc: string;
  name: string;
  price: number;
  weight: number;
}
interface Review {
  id: string;
  body: string;
  authorId: string;
  upc: string;
}

/** Deterministic data: the same on every run, so answers can be compared byte for byte. */
function generate({ users: userCount, products: productCount, reviewsPerUser }: BenchmarkData) {
  const users: User[] = Array.from({ length: userCount }, (_, i) => ({
    id: String(i + 1),
    name: `User Number ${i + 1}`,
    username: `@user${i + 1}`,
  }));
  const products: Product[] = Array.from({ length: productCount }, (_, i) => ({
    upc: String(i + 1),
    name: `Product ${i + 1}`,
    price: 100 + ((i * 37) % 900),
    weight: 10 + ((i * 13) % 90),
  }));
  const reviews: Review[] = [];
  for (const [u, user] of users.entries()) {
    for (let r = 0; r < reviewsPerUser; r += 1) {
      const product = products[(u * reviewsPerUser + r) % products.length] as Product;
      reviews.push({
        id: String(reviews.length + 1),
        body: `Review ${reviews.length + 1} of ${product.name} by ${user.name}: worth the price.`,
        authorId: user.id,
        upc: product.upc,
      });
    }
  }
  return { users, products, reviews };
}

function resolvers(
  data: ReturnType<typeof generate>,
): Record<BenchmarkSubgraph, GraphQLResolverMap<unknown>> {
  const userById = new Map(data.users.map((user) => [user.id, user]));
  const productByUpc = new Map(data.products.map((product) => [product.upc, product]));
  return {
    accounts: {
      Query: { me: () => data.users[0], users: () => data.users },
      User: { __resolveReference: ({ id }: { id: string }) => userById.get(id) },
    },
    products: {
      Query: { topProducts: (_: unknown, { first }: { first: number }) => data.products.slice(0, first) },
      Product: { __resolveReference: ({ upc }: { upc: string }) => productByUpc.get(upc) },
    },
    inventory: {
      Product: {
        __resolveReference: (reference: { upc: string }) => ({
          ...reference,
          inStock: Number(reference.upc) % 3 !== 0,
        }),
        // The benchmark's rule: heavy or expensive products ship free.
        shippingEstimate: ({ price, weight }: { price: number; weight: number }) =>
          price > 1000 ? 0 : Math.round(weight * 0.5),
      },
    },
    reviews: {
      Review: {
        author: (review: Review) => ({ __typename: "User", id: review.authorId }),
        product: (review: Review) => ({ __typename: "Product", upc: review.upc }),
      },
      User: {
        reviews: ({ id }: { id: string }) => data.reviews.filter((review) => review.authorId === id),
      },
      Product: {
        reviews: ({ upc }: { upc: string }) => data.reviews.filter((review) => review.upc === upc),
      },
    },
  };
}

export interface BenchmarkSubgraphs {
  urls: Record<BenchmarkSubgraph, string>;
  stop(): Promise<void>;
}

/** Starts the four subgraphs on free loopback ports. */
export async function startBenchmarkSubgraphs(
  data: BenchmarkData = DEFAULT_DATA,
): Promise<BenchmarkSubgraphs> {
  const resolverMaps = resolvers(generate(data));
  const servers: ApolloServer[] = [];
  const urls = {} as Record<BenchmarkSubgraph, string>;
  for (const name of Object.keys(SDL) as BenchmarkSubgraph[]) {
    const server = new ApolloServer({
      schema: buildSubgraphSchema([{ typeDefs: parse(SDL[name]), resolvers: resolverMaps[name] }]),
      // No gateway here asks for traces: the subgraphs need not build them.
      plugins: [ApolloServerPluginInlineTraceDisabled()],
    });
    const { url } = await startStandaloneServer(server, { listen: { host: "127.0.0.1", port: 0 } });
    servers.push(server);
    urls[name] = url;
  }
  return { urls, stop: async () => void (await Promise.all(servers.map((server) => server.stop()))) };
}

/** Composes the four subgraphs into a supergraph that fetches them at `urls`. */
export function composeBenchmarkSupergraph(urls: Record<BenchmarkSubgraph, string>): string {
  const result = composeServices(
    (Object.keys(SDL) as BenchmarkSubgraph[]).map((name) => ({
      name,
      url: urls[name],
      typeDefs: parse(SDL[name]),
    })),
  );
  if (result.errors) throw new Error(result.errors.map((error) => error.message).join("\n"));
  return result.supergraphSdl;
}
