import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import { missingPaths } from "./missing-paths.ts";

describe("missingPaths", () => {
  it("names each root field of a root fetch by its response name", () => {
    const document = parse('query Q__users__0 { me { id name } admin: user(id: "1") { id } __typename }');
    expect(missingPaths(document, "Q__users__0", {})).toEqual([["me"], ["admin"]]);
  });

  it("names each field asked of each entity, by the entity's type", () => {
    const document = parse(`
      query Q__catalog__2($representations: [_Any!]!) {
        _entities(representations: $representations) {
          ... on Product { __typename name price { amount } }
          ... on Category { title: name }
        }
      }`);
    const representations = [
      { __typename: "Product", id: "p1" },
      { __typename: "Category", id: "c1" },
      { __typename: "Product", id: "p2" },
    ];
    expect(missingPaths(document, "Q__catalog__2", { representations })).toEqual([
      ["_entities", 0, "name"],
      ["_entities", 0, "price"],
      ["_entities", 1, "title"],
      ["_entities", 2, "name"],
      ["_entities", 2, "price"],
    ]);
  });

  it("follows named fragments, honours @skip and @include, and names a field asked twice once", () => {
    const document = parse(`
      query ($representations: [_Any!]!, $withPrice: Boolean!) {
        _entities(representations: $representations) { ...ProductFields ... on Product { name } }
      }
      fragment ProductFields on Product { name price @include(if: $withPrice) sku @skip(if: true) }`);
    const representations = [{ __typename: "Product", id: "p1" }];
    expect(missingPaths(document, undefined, { representations, withPrice: false })).toEqual([
      ["_entities", 0, "name"],
    ]);
    expect(missingPaths(document, undefined, { representations, withPrice: true })).toEqual([
      ["_entities", 0, "name"],
      ["_entities", 0, "price"],
    ]);
  });

  it("names the entity itself when no fragment applies to its type", () => {
    const document = parse(`query ($representations: [_Any!]!) {
      _entities(representations: $representations) { ... on Product { name } }
    }`);
    expect(
      missingPaths(document, undefined, { representations: [{ __typename: "Offer", id: "o1" }] }),
    ).toEqual([["_entities", 0]]);
  });

  it("names the root fields of a mutation", () => {
    const document = parse("mutation { addToCart(input: {}) { cart { totalQuantity } } }");
    expect(missingPaths(document, undefined, {})).toEqual([["addToCart"]]);
  });
});
