import { demoProducts, demoReviews } from "@nexus/catalog/demo";
import { DEMO_STOCK } from "@nexus/inventory/demo";
import { DEMO_REVIEWERS } from "@nexus/users/demo";
import { describe, expect, it } from "vitest";

/**
 * Each subgraph owns its part of the demo data set and subgraphs share no code, so the ids one
 * part gives another's entities are written on both sides. These tests are where they meet.
 */
describe("the demo data set", () => {
  it("stocks exactly catalog's demo products, in catalog's order", () => {
    expect(DEMO_STOCK.map((level) => level.productId)).toEqual(demoProducts().map((product) => product.id));
  });

  it("has every demo review written by one of the users subgraph's demo reviewers", () => {
    const reviewers = new Set(DEMO_REVIEWERS.map((reviewer) => reviewer.id));
    const authors = new Set(demoReviews().map((review) => review.authorId));
    expect([...authors].filter((author) => !reviewers.has(author))).toEqual([]);
    expect(authors.size).toBe(reviewers.size);
  });
});
