import { defineConfig } from "vitest/config";

const project = (name: string, root: string) => ({
  extends: true as const,
  test: { name, root, include: ["src/**/*.test.ts"] },
});

export default defineConfig({
  // One graphql module for everyone: without this, sources get graphql's ESM build and Apollo its
  // CommonJS build, and `instanceof GraphQLError` across the two fails in tests (never in Node).
  resolve: { alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }] },
  test: {
    globalSetup: ["packages/testing/src/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      project("@nexus/core", "packages/core"),
      project("@nexus/events", "packages/events"),
      project("@nexus/stores", "packages/stores"),
      project("@nexus/mail", "packages/mail"),
      project("@nexus/testing", "packages/testing"),
      project("@nexus/users", "subgraphs/users"),
      project("@nexus/catalog", "subgraphs/catalog"),
      project("@nexus/orders", "subgraphs/orders"),
      project("@nexus/inventory", "subgraphs/inventory"),
      project("@nexus/insights", "subgraphs/insights"),
      project("@nexus/notifications", "subgraphs/notifications"),
      project("@nexus/gateway", "gateway"),
      project("@nexus/tools", "tools"),
      project("@nexus/e2e", "e2e"),
      project("@nexus/example-storefront", "examples/storefront"),
    ],
    benchmark: { include: ["src/**/*.bench.ts"] },
  },
});
