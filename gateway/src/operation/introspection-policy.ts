import type { ApolloServerPlugin } from "@apollo/server";
import { graphQLError, type Viewer } from "@nexus/core";
import { type DocumentNode, Kind, type OperationDefinitionNode, type SelectionSetNode } from "graphql";
import type { GatewayContext } from "../edge/context.ts";

export interface IntrospectionPolicyOptions {
  /** Whether this viewer may see the schema: introspect it and get "Did you mean" suggestions. */
  mayIntrospect: (viewer: Viewer | null) => boolean;
}

/** The fields that read the schema; `__typename` reads an object's type and stays allowed. */
const INTROSPECTION_FIELDS = new Set(["__schema", "__type"]);

/** Ends a validation message that suggests names from the schema, as graphql-js words it. */
const SUGGESTION = / ?Did you mean .+\?$/;

/**
 * Keeps the schema to the viewers `mayIntrospect` admits. Apollo's own `introspection` option
 * is one switch for everyone, so it stays on and this plugin decides per request, once the
 * token is verified: an operation that selects `__schema` or `__type` is refused before it is
 * planned, and validation errors lose the "Did you mean …" suggestions, which would otherwise
 * spell out field, argument and type names one typo at a time.
 */
export function useIntrospectionPolicy({
  mayIntrospect,
}: IntrospectionPolicyOptions): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ contextValue }) {
      if (mayIntrospect(contextValue.viewer)) return;
      return {
        async didResolveOperation({ document, operation }) {
          if (operation && selectsIntrospection(operation, document)) {
            throw graphQLError("FORBIDDEN", "Introspection is available to admins only.", {
              http: { status: 403 },
            });
          }
        },
        async didEncounterErrors({ errors }) {
          // Called before the errors are formatted, for validation and execution errors alike
          // (a misspelled enum value in variables is reported at execution).
          for (const error of errors) error.message = error.message.replace(SUGGESTION, "");
        },
      };
    },
  };
}

/** Whether the operation, through any fragment it spreads, selects an introspection field. */
export function selectsIntrospection(operation: OperationDefinitionNode, document: DocumentNode): boolean {
  const fragments = new Map(
    document.definitions.flatMap((definition) =>
      definition.kind === Kind.FRAGMENT_DEFINITION ? [[definition.name.value, definition] as const] : [],
    ),
  );
  const seen = new Set<string>();
  const visit = (selectionSet: SelectionSetNode): boolean =>
    selectionSet.selections.some((selection) => {
      switch (selection.kind) {
        case Kind.FIELD:
          return (
            INTROSPECTION_FIELDS.has(selection.name.value) ||
            (selection.selectionSet !== undefined && visit(selection.selectionSet))
          );
        case Kind.INLINE_FRAGMENT:
          return visit(selection.selectionSet);
        case Kind.FRAGMENT_SPREAD: {
          const name = selection.name.value;
          if (seen.has(name)) return false;
          seen.add(name);
          const fragment = fragments.get(name);
          return fragment !== undefined && visit(fragment.selectionSet);
        }
        default:
          return false;
      }
    });
  return visit(operation.selectionSet);
}
