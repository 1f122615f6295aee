// The layering rule of ARCHITECTURE.md ("Layers"), checked by `pnpm lint:layers`, which
// `pnpm lint` runs, so CI fails on a violation.
//
// Why dependency-cruiser and not Biome's noRestrictedImports: these rules are about which file
// of the repository may import which other file (a resolvers file and a repository, a service
// and its own subgraph's context.ts, one subgraph and another). dependency-cruiser matches both
// ends by resolved path, however the import is spelled (`../context.ts`, `./context.ts`,
// `@nexus/catalog/app`), and can tell one subgraph from another with a back-reference ($1).
// noRestrictedImports matches the specifier as written, so each rule would become a list of
// relative spellings per folder depth, and it cannot tell a subgraph's own context.ts from any
// other file of that name. dependency-cruiser also knows type-only imports from value imports,
// which the driver rule needs.
//
// Layers, by file name under subgraphs/<name>/src:
//   resolvers     *.resolvers.ts: thin; read through loaders, act through services.
//   loaders       *.loaders.ts: per-request DataLoaders whose batch functions call repositories.
//   services      *.service.ts, *.listing.ts, *.feed.ts, *.saga.ts, *.sweeper.ts and
//                 events/*.consumer.ts: the domain's rules, with explicit dependencies.
//   repositories  *.repository.ts, and what plays that part for other back ends: *.store.ts and
//                 *.cache.ts (Redis), *.client.ts (another subgraph over HTTP), *.provider.ts
//                 (payments), auth/login-throttle.ts (Redis counters).
//   database      db/: table types, migrations, seed, cursor positions.
// Models (*.model.ts, *.status.ts), access.ts and search/ are plain functions over values with
// no I/O; any layer may use them. app.ts, index.ts, context.ts, config.ts,
// resolvers.ts and bin/ wire the layers together; test files and test-env.ts build whatever they test.

/** An example client's tests: they start the stack to run the example on. */
const EXAMPLE_TESTS = "^examples/[^/]+/src/.*\\.test\\.ts$";

/** Database drivers. */
const DRIVERS = "(^|/)node_modules/(kysely|mongodb|pg|ioredis)/";

/** A subgraph's composition root and its tests: they wire or exercise every layer. */
const ROOT_AND_TESTS = [
  "^subgraphs/[^/]+/src/(app|index|context|resolvers|config|test-env)\\.ts$",
  "^subgraphs/[^/]+/src/bin/",
  "\\.(test|bench|child)\\.ts$",
  "/test\\.provider\\.ts$",
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "resolvers-use-loaders-and-services",
      comment:
        "A resolvers file reads through loaders (batched per request) and acts through services; it " +
        "never calls a repository, store or client itself, not even for a type.",
      severity: "error",
      from: { path: "\\.resolvers\\.ts$" },
      to: { path: "\\.(repository|store|cache|client)\\.ts$" },
    },
    {
      name: "resolvers-no-database",
      comment: "A resolvers file never touches a database driver, not even for a type.",
      severity: "error",
      from: { path: "\\.resolvers\\.ts$" },
      to: { path: DRIVERS },
    },
    {
      name: "resolvers-are-leaves",
      comment:
        "Only the subgraph's resolvers.ts merges resolvers files; what two modules share is a " +
        "service or a loader, not another module's resolvers.",
      severity: "error",
      from: { path: "^subgraphs/", pathNot: ROOT_AND_TESTS },
      to: { path: "\\.resolvers\\.ts$" },
    },
    {
      name: "no-graphql-context-below-resolvers",
      comment:
        "Services, loaders, repositories and stores take explicit dependencies (a deps object or the " +
        "pieces), never the GraphQL context. Type-only imports of context.ts count too: taking a " +
        "Context is exactly what this rule forbids.",
      severity: "error",
      from: { path: "^subgraphs/[^/]+/src/", pathNot: ["\\.resolvers\\.ts$", ...ROOT_AND_TESTS] },
      to: { path: "^subgraphs/[^/]+/src/context\\.ts$" },
    },
    {
      name: "loaders-and-repositories-look-down",
      comment:
        "A loader's batch function calls repositories, and a repository calls the database only: " +
        "neither calls a service.",
      severity: "error",
      from: { path: "\\.(loaders|repository|store|cache|client)\\.ts$" },
      to: { path: "\\.(service|listing|feed|saga|sweeper|consumer)\\.ts$" },
    },
    {
      name: "only-the-data-layer-imports-drivers",
      comment:
        "Only repositories, stores and db/ run queries. Other layers may name a handle's type (a " +
        "service opens the transaction its repository calls share, typed Kysely or Transaction, " +
        "and passes it down), so type-only imports are allowed there; values such as `sql`, " +
        "`ObjectId` or a client are not.",
      severity: "error",
      from: {
        path: "^subgraphs/[^/]+/src/",
        pathNot: ["\\.(repository|store|cache)\\.ts$", "^subgraphs/[^/]+/src/db/", ...ROOT_AND_TESTS],
      },
      to: { path: DRIVERS, dependencyTypesNot: ["type-only"] },
    },
    {
      name: "no-subgraph-imports-another",
      comment: "Subgraphs share data through the graph and through events, never through code.",
      severity: "error",
      from: { path: "^subgraphs/([^/]+)/" },
      to: { path: "^subgraphs/[^/]+/", pathNot: "^subgraphs/$1/" },
    },
    {
      name: "gateway-never-imports-a-subgraph",
      comment: "The gateway knows the subgraphs through the supergraph only.",
      severity: "error",
      from: { path: "^gateway/" },
      to: { path: "^subgraphs/" },
    },
    {
      name: "packages-never-import-subgraphs-or-gateway",
      comment:
        "packages/ is runtime code the services share, so it cannot depend on them. Tooling that " +
        "needs the services lives in tools/ and e2e/ instead.",
      severity: "error",
      from: { path: "^packages/" },
      to: { path: "^(subgraphs|gateway)/" },
    },
    {
      name: "nothing-imports-tools-or-e2e",
      comment:
        "tools/ (start, benches, compose, fuzz, the in-process stack) and e2e/ (end-to-end tests) " +
        "may import anything, and nothing that runs in production imports them. An example " +
        "client's tests run it on the stack tools/ starts.",
      severity: "error",
      from: { pathNot: ["^(tools|e2e)/", EXAMPLE_TESTS] },
      to: { path: "^(tools|e2e)/" },
    },
    {
      name: "examples-know-the-graph-only",
      comment:
        "An example client is what an app outside this repository would be: its own files (the " +
        "operations generated into src/gql/ among them), graphql, the typed-document type, the " +
        "graphql-sse client and Node's built-ins. Never a subgraph, the gateway or packages/; only " +
        "its tests use tools/.",
      severity: "error",
      from: { path: "^examples/([^/]+)/", pathNot: EXAMPLE_TESTS },
      to: {
        pathNot: [
          "^examples/$1/",
          "(^|/)node_modules/(graphql|graphql-sse|@graphql-codegen/cli)/",
          // A package of types only, which the cruiser leaves unresolved.
          "^@graphql-typed-document-node/core$",
        ],
        dependencyTypesNot: ["core"],
      },
    },
    {
      name: "tools-never-import-e2e",
      comment: "e2e/ runs on the stack tools/ starts; the other way round would be a cycle.",
      severity: "error",
      from: { path: "^tools/" },
      to: { path: "^e2e/" },
    },
    {
      name: "gateway-through-its-entry",
      comment:
        "Outside the gateway, code starts a gateway through its public entry (`@nexus/gateway`, " +
        "gateway/src/public.ts), so the gateway's own files can move without breaking tools/ or e2e/.",
      severity: "error",
      from: { path: "^(tools|e2e|subgraphs|packages)/" },
      to: { path: "^gateway/src/", pathNot: "^gateway/src/public\\.ts$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "/__generated__/" },
    // Keep type-only imports in the graph (a `Context` parameter is one) and mark them as such.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "node", "default", "types"],
      extensions: [".ts", ".js", ".mjs", ".cjs", ".json"],
      mainFields: ["module", "main", "types"],
    },
  },
};
