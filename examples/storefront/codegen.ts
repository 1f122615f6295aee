import type { CodegenConfig } from "@graphql-codegen/cli";

/**
 * The storefront's typed operations, as schema/README.md tells an app to generate them: the
 * client preset over Nexus's client-facing schema. `pnpm codegen` at the repository root runs
 * this too, and `pnpm check:generated` fails when src/gql/ is not what it writes.
 */
const config: CodegenConfig = {
  // Nexus's client-facing schema; an app outside this repository points at its own copy.
  schema: "../../schema/api.graphql",
  // Every operation the app sends, written with the generated `graphql()` function.
  documents: ["src/**/*.{ts,tsx}", "!src/gql/**"],
  generates: {
    "src/gql/": {
      preset: "client",
      config: {
        // Nexus sends DateTime as an ISO 8601 string.
        scalars: { DateTime: "string" },
        enumsAsTypes: true,
        useTypeImports: true,
        // This package runs its TypeScript directly in Node, which resolves `./graphql.ts`
        // only when the import says so; an app built by a bundler leaves this out.
        importExtension: ".ts",
      },
    },
  },
};

export default config;
