import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { composeServices } from "@apollo/composition";
import { generatePersistedQueryManifest } from "@apollo/generate-persisted-query-manifest";
import { generate } from "@graphql-codegen/cli";
import { parse } from "graphql";
import { afterAll, describe, expect, it } from "vitest";
import { apiSchemaOf } from "./composition.ts";
import {
  createPersistedQueryManifest,
  type PersistedOperationsError,
  type PersistedQueryManifest,
} from "./persisted-query-manifest.ts";
import { repoRoot, SUPERGRAPH_PATH } from "./subgraphs.ts";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

// A small supergraph with an @inaccessible field, to tell the API schema from the supergraph.
const SHOP_SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.12", import: ["@key", "@inaccessible"])
type Query { product(id: ID!): Product products: [Product!]! }
type Product @key(fields: "id") { id: ID! name: String! cost: Int! @inaccessible price: Int! }
`;
const composed = composeServices([
  { name: "shop", url: "http://shop.internal/graphql", typeDefs: parse(SHOP_SDL) },
]);
if (composed.errors) throw new Error(composed.errors.map((error) => error.message).join("\n"));
const shopSupergraph = composed.supergraphSdl;
const shop = apiSchemaOf(shopSupergraph);

const source = (location: string, text: string) => ({ location, document: parse(text) });

function problemsOf(build: () => unknown): readonly string[] {
  try {
    build();
  } catch (error) {
    return (error as PersistedOperationsError).problems;
  }
  throw new Error("expected the manifest to be refused");
}

describe("createPersistedQueryManifest", () => {
  it("writes Apollo's format: id = sha256(body), operations by name, each with the fragments it uses", () => {
    const manifest = createPersistedQueryManifest("web", shop, [
      source("b.graphql", "query Product($id: ID!) { product(id: $id) { ...Card } }"),
      source(
        "a.graphql",
        `query Catalog { products { ...Card ...Priced } }
         fragment Priced on Product { price ...Named }
         fragment Named on Product { name }
         fragment Card on Product { id ...Named }
         fragment Unused on Product { id }`,
      ),
    ]);
    expect(manifest.format).toBe("apollo-persisted-query-manifest");
    expect(manifest.version).toBe(1);
    expect(manifest.operations.map(({ name, type }) => ({ name, type }))).toEqual([
      { name: "Catalog", type: "query" },
      { name: "Product", type: "query" },
    ]);
    for (const operation of manifest.operations) expect(operation.id).toBe(sha256(operation.body));
    // Operation first, then fragments by name, printed by graphql-js; unused fragments left out;
    // __typename in every selection set but the root, as Apollo Client sends it.
    expect(manifest.operations[0]?.body).toBe(
      [
        "query Catalog {\n  products {\n    ...Card\n    ...Priced\n    __typename\n  }\n}",
        "fragment Card on Product {\n  id\n  ...Named\n  __typename\n}",
        "fragment Named on Product {\n  name\n  __typename\n}",
        "fragment Priced on Product {\n  price\n  ...Named\n  __typename\n}",
      ].join("\n\n"),
    );
    expect(manifest.operations[1]?.body).toBe(
      [
        "query Product($id: ID!) {\n  product(id: $id) {\n    ...Card\n    __typename\n  }\n}",
        "fragment Card on Product {\n  id\n  ...Named\n  __typename\n}",
        "fragment Named on Product {\n  name\n  __typename\n}",
      ].join("\n\n"),
    );
  });

  it("adds no second __typename, and none to the root selection set", () => {
    const manifest = createPersistedQueryManifest("web", shop, [
      source("t.graphql", "query T { products { __typename id } }"),
    ]);
    expect(manifest.operations[0]?.body).toBe("query T {\n  products {\n    __typename\n    id\n  }\n}");
  });

  it("gives the same id whatever the layout of the source", () => {
    const one = createPersistedQueryManifest("web", shop, [source("x.graphql", "query P{products{id}}")]);
    const two = createPersistedQueryManifest("web", shop, [
      source("y.graphql", "# comment\nquery P {\n\n  products { id }\n}\n"),
    ]);
    expect(one.operations[0]?.id).toBe(two.operations[0]?.id);
  });

  // `cost` is in the supergraph but @inaccessible: valid against the supergraph, not the API schema.
  it("reports every problem at once: no name, a name twice, a missing fragment, invalid or hidden fields", () => {
    expect(
      problemsOf(() =>
        createPersistedQueryManifest("web", shop, [
          source("a.graphql", "{ products { id } } query Twice { products { id } }"),
          source("b.graphql", "query Twice { products { name } } query Lost { products { ...Gone } }"),
          source("c.graphql", "query Wrong($id: ID!) { product(id: $id) { nope } }"),
          source("d.graphql", "query Hidden { products { cost } }"),
        ]),
      ),
    ).toEqual([
      "a.graphql: every operation needs a name; clients refer to it by name",
      "b.graphql: operation Twice is already defined in a.graphql",
      'd.graphql: operation Hidden: Cannot query field "cost" on type "Product".',
      "b.graphql: operation Lost uses undefined fragment(s) Gone",
      'c.graphql: operation Wrong: Cannot query field "nope" on type "Product". Did you mean "name"?',
    ]);
  });

  it("refuses a folder without operations, and schema definitions among operations", () => {
    expect(problemsOf(() => createPersistedQueryManifest("web", shop, []))).toEqual([
      "no operations: add at least one named operation, or remove the folder",
    ]);
    expect(
      problemsOf(() =>
        createPersistedQueryManifest("web", shop, [source("s.graphql", "type Extra { id: ID }")]),
      ),
    ).toEqual(["s.graphql: only operations and fragments belong here, found a ObjectTypeDefinition"]);
  });
});

describe("the checked-in manifests", () => {
  it("are what the operations in schema/operations give against the checked-in supergraph", () => {
    const schema = apiSchemaOf(readFileSync(SUPERGRAPH_PATH, "utf8"));
    const root = join(repoRoot, "schema/operations");
    const clients = readdirSync(root, { withFileTypes: true }).filter((entry) => entry.isDirectory());
    expect(clients.map((entry) => entry.name)).toContain("demo-partner");
    for (const { name: client } of clients) {
      const files = readdirSync(join(root, client)).filter((file) => file.endsWith(".graphql"));
      const manifest = JSON.parse(
        readFileSync(join(root, client, "persisted-query-manifest.json"), "utf8"),
      ) as PersistedQueryManifest;
      const sources = files.map((file) =>
        source(`schema/operations/${client}/${file}`, readFileSync(join(root, client, file), "utf8")),
      );
      expect(manifest).toEqual(createPersistedQueryManifest(client, schema, sources));
      for (const operation of manifest.operations) expect(operation.id).toBe(sha256(operation.body));
    }
  });
});

describe("Apollo's own manifest generator", () => {
  // The real `@apollo/generate-persisted-query-manifest`, defaults and all, over the same files:
  // a partner that builds its manifest with Apollo's tooling must get the ids the gateway knows.
  it("writes the very manifest of every checked-in client folder", async () => {
    const root = join(repoRoot, "schema/operations");
    const clients = readdirSync(root, { withFileTypes: true }).filter((entry) => entry.isDirectory());
    for (const { name: client } of clients) {
      const apollo = await generatePersistedQueryManifest(
        { documents: [join(root, client, "*.graphql")] },
        undefined,
      );
      const ours = JSON.parse(readFileSync(join(root, client, "persisted-query-manifest.json"), "utf8"));
      expect(apollo).toEqual(ours);
    }
  });

  it("agrees on fragments, nested selections and explicit __typename", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nexus-apollo-manifest-"));
    try {
      // Apollo's tool takes one operation per file, and validates nothing against a schema.
      const texts = [
        "query Catalog { products { ...Card ...Priced } }\nfragment Priced on Product { price ...Named }",
        "fragment Named on Product { name }\nfragment Card on Product { __typename id ...Named }",
        "query Product($id: ID!) { product(id: $id) { ...Card } }",
      ];
      for (const [index, text] of texts.entries()) writeFileSync(join(dir, `${index}.graphql`), text);
      const apollo = await generatePersistedQueryManifest({ documents: [join(dir, "*.graphql")] }, undefined);
      const ours = createPersistedQueryManifest(
        "web",
        shop,
        texts.map((text, index) => source(`${index}.graphql`, text)),
      );
      expect(apollo).toEqual(ours);
      expect(ours.operations).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the codegen plugin", () => {
  const dir = mkdtempSync(join(tmpdir(), "nexus-manifest-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const supergraph = join(dir, "supergraph.graphql");
  writeFileSync(supergraph, shopSupergraph);
  mkdirSync(join(dir, "shop-app"));

  const run = (operations: string) => {
    writeFileSync(join(dir, "shop-app", "ops.graphql"), operations);
    return generate(
      {
        cwd: dir,
        silent: true,
        generates: {
          [join(dir, "shop-app", "persisted-query-manifest.json")]: {
            schema: supergraph,
            documents: join(dir, "shop-app", "*.graphql"),
            plugins: [join(repoRoot, "tools/src/persisted-query-manifest.ts")],
            config: {
              client: "shop-app",
              supergraph,
              skipDocumentsValidation: true,
            },
          },
        },
      },
      false,
    );
  };

  it("writes the manifest that `pnpm codegen` writes for a client folder", async () => {
    const [output] = await run("query Names { products { name } }");
    const manifest = JSON.parse(output?.content ?? "{}") as PersistedQueryManifest;
    const body = "query Names {\n  products {\n    name\n    __typename\n  }\n}";
    expect(manifest).toEqual({
      format: "apollo-persisted-query-manifest",
      version: 1,
      operations: [{ id: sha256(body), name: "Names", type: "query", body }],
    });
  });

  it("fails codegen with a message naming the client, the file and the problem", async () => {
    await expect(run("query Names { products { nope } }")).rejects.toThrow(
      /Persisted operations of "shop-app" are invalid:[\s\S]*ops\.graphql: operation Names: Cannot query field "nope" on type "Product"\./,
    );
  });
});
