import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { decodeIdOfType, parseGlobalId, toGlobalId } from "./global-id.ts";

const UUID = "7f0c6a52-3b7e-4c1a-9f3e-2d8b1c0a4e55";

describe("toGlobalId / parseGlobalId", () => {
  it("names the type and round-trips the raw id", () => {
    const id = toGlobalId("Order", UUID);
    expect(id).toBe(`gid://nexus/Order/${UUID}`);
    expect(parseGlobalId(id)).toEqual({ type: "Order", raw: UUID });
  });

  it("percent-encodes URL-unsafe characters and gets them back", () => {
    const raw = "a/b c?d#e%f&g=ü";
    const id = toGlobalId("Category", raw);
    expect(id.slice("gid://nexus/Category/".length)).not.toMatch(/[/ ?#&=ü]/);
    expect(parseGlobalId(id)).toEqual({ type: "Category", raw });
  });

  it("refuses to build an id without a type name or a raw id", () => {
    expect(() => toGlobalId("order", UUID)).toThrow("not a type name");
    expect(() => toGlobalId("Or/der", UUID)).toThrow("not a type name");
    expect(() => toGlobalId("Order", "")).toThrow("empty Order id");
  });

  it.each([
    ["a raw id", UUID],
    ["another scheme", `gid://shopify/Order/${UUID}`],
    ["no raw id", "gid://nexus/Order/"],
    ["no type", `gid://nexus//${UUID}`],
    ["no separator", "gid://nexus/Order"],
    ["a lower-case type", `gid://nexus/order/${UUID}`],
    ["an extra segment", `gid://nexus/Order/${UUID}/lines`],
    ["a broken escape", "gid://nexus/Order/%E0%A4%A"],
    ["an empty string", ""],
  ])("returns null for %s", (_, value) => {
    expect(parseGlobalId(value)).toBeNull();
  });
});

describe("decodeIdOfType", () => {
  it("decodes a global id of the expected type", () => {
    expect(decodeIdOfType(toGlobalId("Product", "abc"), "Product")).toEqual({ raw: "abc", legacy: false });
  });

  it("accepts a legacy raw id as it is, and says so", () => {
    expect(decodeIdOfType(UUID, "Order")).toEqual({ raw: UUID, legacy: true });
  });

  it("refuses a global id of another type as BAD_USER_INPUT", () => {
    const error = catchError(() => decodeIdOfType(toGlobalId("User", UUID), "Order"));
    expect(error.extensions.code).toBe("BAD_USER_INPUT");
    expect(error.message).toBe("Expected an id of type Order, got one of type User.");
  });

  it("refuses a malformed global id as BAD_USER_INPUT instead of taking it for a raw id", () => {
    const error = catchError(() => decodeIdOfType("gid://nexus/Order/", "Order"));
    expect(error.extensions.code).toBe("BAD_USER_INPUT");
  });
});

function catchError(run: () => unknown): GraphQLError {
  try {
    run();
  } catch (error) {
    if (error instanceof GraphQLError) return error;
    throw error;
  }
  throw new Error("expected an error");
}
