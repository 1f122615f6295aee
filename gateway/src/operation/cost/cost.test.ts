/**
 * The cost estimate on the real supergraph, for real operations of this repository, against
 * costs worked out by hand from the `@cost`/`@listSize` in schema/*.graphql.
 */
import { readFileSync } from "node:fs";
import { ApolloGateway } from "@apollo/gateway";
import {
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  isObjectType,
  parse,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_SUPERGRAPH_PATH } from "../../config.ts";
import { declareAccessDirectivesEnforced } from "../access-control.ts";
import { type CostDirectives, estimateCost, readCostDirectives } from "./cost.ts";

const supergraphSdl = readFileSync(DEFAULT_SUPERGRAPH_PATH, "utf8");
const directives = readCostDirectives(parse(supergraphSdl));
let schema: GraphQLSchema;
let gateway: ApolloGateway;

beforeAll(async () => {
  // The API schema the gateway serves, as the plugin sees it in `requestContext.schema`.
  gateway = new ApolloGateway({ supergraphSdl: declareAccessDirectivesEnforced(supergraphSdl) });
  ({ schema } = await gateway.load());
});
afterAll(() => gateway.stop());

const cost = (query: string, variables?: Record<string, unknown>, operationName?: string) =>
  estimateCost(schema, directives, parse(query), operationName, variables);

describe("estimateCost on the real supergraph", () => {
  it("prices a products page of 50 with 10 reviews each: 1 + 50 × (edge + product + price + reviews + 10 × 2) = 1201", () => {
    const query = `query ProductsWithReviews($first: Int!) {
      products(first: $first) { edges { node { id name price { amount currencyCode }
        reviews(first: 10) { edges { node { rating title } } } } } } }`;
    // products 1 + 50 edges × (edge 1 + node 1 + price 1 + reviews 1 + 10 review edges × (edge 1 + node 1))
    expect(cost(query, { first: 50 })).toBe(1 + 50 * (1 + 1 + 1 + 1 + 10 * 2));
    // Without the variable the connection's assumed size, the documented page size of 20, applies.
    expect(cost(query)).toBe(1 + 20 * 24);
  });

  it("prices the catalog README's storefront listing: 235", () => {
    const readme = readFileSync(new URL("../../../../subgraphs/catalog/README.md", import.meta.url), "utf8");
    const listing = /```graphql\n(query StorefrontListing[\s\S]*?)```/.exec(readme)?.[1] ?? "";
    // products 1 + 12 edges × (edge 1 + product 1 + price 1 + rating 1) + pageInfo 1
    // + facets (@cost 10 + 10 attributes × (1 + 10 values) + 20 brands + 20 categories × 2 + priceRange 3)
    // + filter argument (ProductFilter 1 + one AttributeFilter 1)
    expect(cost(listing)).toBe(1 + 12 * 4 + 1 + (10 + 10 * 11 + 20 + 20 * 2 + 3) + 2);
  });

  it("prices the end-to-end order history page: 317", () => {
    const query = `{ me { orders(first: 5) { totalCount edges { node { id status total { amount currencyCode }
      lines { quantity productName unitPrice { amount } lineTotal { amount }
        product { id name price { amount currencyCode } inventory { available } } } } } } } }`;
    // me 1 + orders 1 + 5 edges × (edge 1 + order 1 + total 1 + 10 lines × (line 1 + 2 money + product 1 + price 1 + inventory 1))
    expect(cost(query)).toBe(1 + 1 + 5 * (3 + 10 * 6));
  });

  it("prices the category menu, the most expensive operation in the repository: 850", () => {
    // 50 categories × (category 1 + parent 1 + 10 children + 5 ancestors)
    expect(cost("{ categories { slug path parent { slug } children { slug } ancestors { slug } } }")).toBe(
      850,
    );
  });

  it("adds the mutation's base cost, @cost weights and input objects: checkout = 95", () => {
    const query = `mutation ($input: CheckoutInput!) { checkout(input: $input) {
      order { id placedAt total { amount currencyCode } lines { product { id } productName quantity unitPrice { amount } }
        shippingAddress { name city postalCode countryCode } }
      userErrors { code message } } }`;
    const input = {
      idempotencyKey: "k1",
      shippingAddress: { name: "A", line1: "1 Way", city: "Berlin", postalCode: "10115", countryCode: "DE" },
    };
    // mutation 10 + checkout @cost 50 + order (1 + total 1 + 10 lines × 3 + address 1) + userErrors 0
    // (UserError @cost 0) + input (CheckoutInput 1 + AddressInput 1)
    expect(cost(query, { input })).toBe(10 + 50 + 33 + 0 + 2);
  });

  it("charges the weighted search argument and facets once, not per item", () => {
    expect(
      cost('{ products(filter: { search: "laptop" }, first: 5) { totalCount edges { node { id } } } }'),
    ).toBe(1 + 5 * 2 + (1 + 5));
    expect(cost("{ products(first: 1) { facets { priceRange { min { amount } } } } }")).toBe(1 + 10 + 1 + 1);
    expect(cost('{ productSuggestions(prefix: "lap", first: 3) { id } }')).toBe(3 + 5);
  });

  it("follows fragments and inline fragments where they are spread, and skips what @skip/@include drop", () => {
    const query = `query ($withReviews: Boolean!) {
      a: product(slug: "x") { ...Card }
      b: product(slug: "y") { ...Card ... on Product { category { name } } }
      c: product(slug: "z") @include(if: $withReviews) { reviews(first: 3) { edges { node { id } } } }
    }
    fragment Card on Product { price { amount } rating { average } }`;
    // a: 1 + 2, b: 1 + 2 + category 1, c: skipped
    expect(cost(query, { withReviews: false })).toBe(3 + 4);
    // c: 1 + reviews 1 + 3 × 2
    expect(cost(query, { withReviews: true })).toBe(3 + 4 + 8);
  });

  it("takes a slicing argument from a literal, a variable or the variable's default", () => {
    const edges = "{ edges { node { id } } }";
    expect(cost(`{ products(first: 7) ${edges} }`)).toBe(1 + 7 * 2);
    expect(cost(`query ($n: Int) { products(first: $n) ${edges} }`, { n: 70 })).toBe(1 + 70 * 2);
    expect(cost(`query ($n: Int = 30) { products(first: $n) ${edges} }`)).toBe(1 + 30 * 2);
    expect(cost(`query ($n: Int) { products(first: $n) ${edges} }`, { n: 100_000 })).toBe(1 + 100_000 * 2);
    // An unset variable without a default leaves the assumed page size of 20.
    expect(cost(`query ($n: Int) { products(first: $n) ${edges} }`)).toBe(1 + 20 * 2);
  });

  it("costs only the selected operation; __typename and introspection are free", () => {
    const document = "query A { categories { id } } query B { __typename __schema { types { name } } }";
    expect(cost(document, {}, "A")).toBe(50);
    expect(cost(document, {}, "B")).toBe(0);
  });

  it("has a @listSize for every list of objects whose items cost something", () => {
    expect(unsizedLists(schema, directives)).toEqual([]);
  });
});

/**
 * Lists of objects that fall back to DEFAULT_LIST_SIZE: neither their own `@listSize` nor a
 * parent's `sizedFields` sizes them, and their items are not free. A new list field should
 * say how long it gets.
 */
function unsizedLists(schema: GraphQLSchema, { listSizes, weights }: CostDirectives): string[] {
  const sized = new Set<string>();
  for (const [coordinate, listSize] of listSizes) {
    const [typeName = "", fieldName = ""] = coordinate.split(".");
    const type = schema.getType(typeName);
    const field = isObjectType(type) ? type.getFields()[fieldName] : undefined;
    const returned = field && getNamedType(field.type);
    for (const sizedField of listSize.sizedFields) if (returned) sized.add(`${returned.name}.${sizedField}`);
  }
  const unsized: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    for (const field of Object.values(type.getFields())) {
      const item = getNamedType(field.type);
      const coordinate = `${type.name}.${field.name}`;
      if (!isListType(getNullableType(field.type)) || !isCompositeType(item)) continue;
      if (listSizes.has(coordinate) || sized.has(coordinate) || weights.get(item.name) === 0) continue;
      unsized.push(coordinate);
    }
  }
  return unsized;
}

describe("readCostDirectives", () => {
  it("finds the directives under the names the supergraph's @link gives them", () => {
    const renamed = parse(`
      schema @link(url: "https://specs.apollo.dev/cost/v0.1", as: "price", import: [{ name: "@listSize", as: "@size" }]) { query: Query }
      type Query { items(first: Int): [Item] @size(slicingArguments: ["first"]) @price(weight: 3) }
      type Item @price(weight: 2) { id: ID }
    `);
    const { weights, listSizes } = readCostDirectives(renamed);
    expect(Object.fromEntries(weights)).toEqual({ "Query.items": 3, Item: 2 });
    expect(Object.fromEntries(listSizes)).toEqual({
      "Query.items": { assumedSize: null, slicingArguments: ["first"], sizedFields: [] },
    });
  });

  it("reads nothing from a schema that does not link the cost spec", () => {
    const plain = readCostDirectives(parse("type Query { items: [String] @cost(weight: 3) }"));
    expect(plain.weights.size + plain.listSizes.size).toBe(0);
  });
});
