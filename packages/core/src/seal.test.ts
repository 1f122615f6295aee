import { describe, expect, it } from "vitest";
import { openFromServices, sealForServices } from "./seal.ts";

const current = "c".repeat(40);
const previous = "p".repeat(40);

describe("sealForServices", () => {
  it("opens with the same secret and hides the plaintext", () => {
    const sealed = sealForServices({ current }, "reset-token-123");
    expect(sealed).not.toContain("reset-token-123");
    expect(openFromServices({ current }, sealed)).toBe("reset-token-123");
  });

  it("opens what the previous secret sealed during a rotation", () => {
    const sealed = sealForServices({ current: previous }, "t");
    expect(openFromServices({ current, previous }, sealed)).toBe("t");
    expect(openFromServices({ current }, sealed)).toBeNull();
  });

  it("refuses tampered or malformed input", () => {
    const sealed = sealForServices({ current }, "token");
    const [v, iv, body] = sealed.split(".") as [string, string, string];
    const flipped = Buffer.from(body, "base64url");
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(openFromServices({ current }, `${v}.${iv}.${flipped.toString("base64url")}`)).toBeNull();
    expect(openFromServices({ current }, "v2.a.b")).toBeNull();
    expect(openFromServices({ current }, "garbage")).toBeNull();
    expect(openFromServices({ current }, "v1.AAAA.AA")).toBeNull();
  });
});
