import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loadPersistedManifests, MANIFEST_FILE } from "./persisted-manifests.ts";

const CHECKED_IN = fileURLToPath(new URL("../../../schema/operations", import.meta.url));

const root = mkdtempSync(join(tmpdir(), "nexus-manifests-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

function folder(name: string, manifests: Record<string, unknown>): string {
  const dir = join(root, name);
  for (const [client, manifest] of Object.entries(manifests)) {
    mkdirSync(join(dir, client), { recursive: true });
    writeFileSync(
      join(dir, client, MANIFEST_FILE),
      typeof manifest === "string" ? manifest : JSON.stringify(manifest),
    );
  }
  mkdirSync(join(dir, "no-manifest"), { recursive: true });
  return dir;
}

const manifestOf = (operations: unknown[]) => ({
  format: "apollo-persisted-query-manifest",
  version: 1,
  operations,
});
const BODY = "query A {\n  a\n}";

describe("loadPersistedManifests", () => {
  it("reads the checked-in manifests", () => {
    const manifests = loadPersistedManifests(CHECKED_IN);
    const names = [...(manifests.get("demo-partner")?.values() ?? [])]
      .map((operation) => operation.name)
      .sort();
    expect(names).toEqual(["OrderStatus", "PartnerManifest", "ProductFeed"]);
  });

  it("maps each client folder with a manifest to its operations by id", () => {
    const dir = folder("good", {
      web: manifestOf([{ id: sha256(BODY), name: "A", type: "query", body: BODY }]),
    });
    const manifests = loadPersistedManifests(dir);
    expect([...manifests.keys()]).toEqual(["web"]);
    expect(manifests.get("web")?.get(sha256(BODY))).toEqual({
      id: sha256(BODY),
      name: "A",
      type: "query",
      body: BODY,
    });
  });

  it.each([
    ["not JSON", "{", /is not a persisted query manifest: .*JSON/],
    [
      "another format",
      { format: "relay", operations: [] },
      /expected \{ "format": "apollo-persisted-query-manifest"/,
    ],
    ["an operation without a body", manifestOf([{ id: "x", name: "A", type: "query" }]), /operation 0 needs/],
    [
      "an id that is not the sha256 of the body",
      manifestOf([{ id: sha256("query B { b }"), name: "A", type: "query", body: BODY }]),
      /the id of operation A is not the sha256 of its body/,
    ],
  ])("refuses %s", (name, manifest, message) => {
    const dir = folder(`bad-${name.replaceAll(" ", "-")}`, { acme: manifest });
    expect(() => loadPersistedManifests(dir)).toThrow(message);
  });

  it("refuses a folder it cannot read", () => {
    expect(() => loadPersistedManifests(join(root, "missing"))).toThrow(
      `PERSISTED_OPERATIONS_DIR: cannot read ${join(root, "missing")} (ENOENT)`,
    );
  });
});
