import { describe, expect, test } from "vitest";
import { validateAddress } from "./address.ts";

const valid = {
  name: "  Ada   Lovelace ",
  line1: "12 St James's Square",
  line2: "",
  city: "London",
  region: null,
  postalCode: "sw1y 4jh",
  countryCode: "gb",
};

describe("validateAddress", () => {
  test("normalizes whitespace, empty optionals, postal code and country case", () => {
    expect(validateAddress(valid, ["input"])).toEqual({
      address: {
        name: "Ada Lovelace",
        line1: "12 St James's Square",
        line2: null,
        city: "London",
        region: null,
        postalCode: "SW1Y 4JH",
        countryCode: "GB",
      },
      errors: [],
    });
  });

  test.each(["UK", "EU", "XX", "GBR", "", "1A"])("refuses country code %j", (countryCode) => {
    const { address, errors } = validateAddress({ ...valid, countryCode }, ["input", "address"]);
    expect(address).toBeNull();
    expect(errors).toEqual([
      expect.objectContaining({ code: "INVALID_COUNTRY", field: ["input", "address", "countryCode"] }),
    ]);
  });

  test("names every missing required field and every over-long one", () => {
    const { errors } = validateAddress(
      { ...valid, name: " ", line1: "", city: "x".repeat(101), postalCode: "$1" },
      ["input"],
    );
    expect(errors.map((e) => e.field?.join("."))).toEqual([
      "input.name",
      "input.line1",
      "input.city",
      "input.postalCode",
    ]);
    expect(errors.every((e) => e.code === "INVALID_ADDRESS")).toBe(true);
  });
});
