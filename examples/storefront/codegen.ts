import type { CodegenConfig } from "@graphql-codegen/cli";

/**
 * The storefront's typed operations: each operation in `src/operations/*.graphql`, checked
 * against Nexus's client-facing schema and generated into `src/gql/graphql.ts` as a
 * `TypedDocumentNode` with its result and variables types (the plugins the client preset is made
 * of, without its `graphql()` lookup function). `pnpm codegen` at the repository root runs this
 * too, and `pnpm check:generated` fails when src/gql/ is not what it writes.
 */
const config: CodegenConfig = {
  // Nexus's client-facing schema; an app outside this repository points at its own copy.
  schema: "../../schema/api.graphql",
  documents: ["src/operations/*.graphql"],
  generates: {
    "src/gql/graphql.ts": {
      plugins: ["typescript-operations", "typed-document-node"],
      config: {
        // Nexus sends DateTime as an ISO 8601 string.
        scalars: { DateTime: "string" },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
