import type { ApolloServerPlugin } from "@apollo/server";
import {
  type DirectiveNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLFormattedError,
  getOperationAST,
  Kind,
  type SelectionSetNode,
} from "graphql";
import type { GatewayContext } from "../edge/context.ts";
import type { GatewayMetrics } from "../observability/metrics.ts";

export interface OperationLimits {
  /** Deepest field nesting; a root field is at depth 1. */
  maxDepth: number;
  /** Aliased fields, counted everywhere a fragment is spread. */
  maxAliases: number;
  /** Directive applications, counted everywhere a fragment is spread. */
  maxDirectives: number;
  /** Lexical tokens of the whole document; enforced by the parser (`parseOptions.maxTokens`). */
  maxTokens: number;
}

/** What `measureOperation` finds in one operation. */
export interface OperationShape {
  depth: number;
  aliases: number;
  directives: number;
}

/**
 * Measures the operation `operationName` selects, following fragment spreads, as Apollo's
 * router does: a field is one level deeper than its parent (fragments add no level), every
 * aliased field counts once per place it is reached, and so does every directive (on the
 * operation, its variables, fields, fragment spreads, inline fragments and fragment
 * definitions). A fragment's figures are computed once and reused at each spread. Apollo
 * Server validates before `didResolveOperation`, so fragment cycles are refused before this
 * runs; a cycle would still only be followed once.
 */
export function measureOperation(document: DocumentNode, operationName?: string | null): OperationShape {
  const operation = getOperationAST(document, operationName);
  if (!operation) return { depth: 0, aliases: 0, directives: 0 };
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const measured = new Map<string, OperationShape | "measuring">();
  const count = (directives: readonly DirectiveNode[] | undefined) => directives?.length ?? 0;

  const measure = (selectionSet: SelectionSetNode): OperationShape => {
    const shape = { depth: 0, aliases: 0, directives: 0 };
    const add = (nested: OperationShape, levels: number) => {
      shape.depth = Math.max(shape.depth, nested.depth + levels);
      shape.aliases += nested.aliases;
      shape.directives += nested.directives;
    };
    for (const selection of selectionSet.selections) {
      shape.directives += count(selection.directives);
      if (selection.kind === Kind.FIELD) {
        if (selection.alias) shape.aliases += 1;
        add(
          selection.selectionSet ? measure(selection.selectionSet) : { depth: 0, aliases: 0, directives: 0 },
          1,
        );
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        add(measure(selection.selectionSet), 0);
      } else {
        const name = selection.name.value;
        let nested = measured.get(name);
        if (nested === undefined) {
          const fragment = fragments.get(name);
          if (!fragment) continue;
          measured.set(name, "measuring");
          const inner = measure(fragment.selectionSet);
          nested = { ...inner, directives: inner.directives + count(fragment.directives) };
          measured.set(name, nested);
        }
        if (nested !== "measuring") add(nested, 0);
      }
    }
    return shape;
  };

  const shape = measure(operation.selectionSet);
  const variableDirectives = (operation.variableDefinitions ?? []).reduce(
    (sum, definition) => sum + count(definition.directives),
    0,
  );
  return { ...shape, directives: shape.directives + count(operation.directives) + variableDirectives };
}

/** Apollo router's codes where it has one (depth, aliases); the same pattern for the others. */
const CODES = {
  depth: "MAX_DEPTH_LIMIT",
  aliases: "MAX_ALIASES_LIMIT",
  directives: "MAX_DIRECTIVES_LIMIT",
  tokens: "MAX_TOKENS_LIMIT",
} as const;

const DESCRIPTIONS = {
  depth: "is nested {actual} fields deep",
  aliases: "has {actual} aliases",
  directives: "has {actual} directives",
} as const;

function limitError(limit: keyof OperationShape, actual: number, max: number): GraphQLError {
  return new GraphQLError(
    `The operation ${DESCRIPTIONS[limit].replace("{actual}", String(actual))}, more than the limit of ${max}.`,
    { extensions: { code: CODES[limit], limit: max, actual, http: { status: 400 } } },
  );
}

/**
 * The syntax error graphql-js raises when parsing reaches `maxTokens` (its wording, "more
 * that", sic). Parsing stops there, so a huge document costs no more than the limit to refuse.
 */
const TOKEN_LIMIT = /^Syntax Error: Document contains more that (\d+) tokens\. Parsing aborted\.$/;

/**
 * Rewrites the parser's token-limit syntax error into a MAX_TOKENS_LIMIT error like the other
 * limits (for `formatError`); any other error is returned as it is. The actual count is not
 * known: the parser stopped at the limit.
 */
export function describeTokenLimit(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const limit = TOKEN_LIMIT.exec(formatted.message)?.[1];
  if (limit === undefined) return formatted;
  return {
    message: `The operation has more than ${limit} tokens, the limit.`,
    extensions: { code: CODES.tokens, limit: Number(limit) },
  };
}

export interface UseOperationLimitsOptions {
  limits: OperationLimits;
  metrics: GatewayMetrics;
}

/**
 * Refuses an operation that is too deep or has too many aliases or directives with HTTP 400
 * before it is planned, so no subgraph is called. `didResolveOperation` runs after Apollo
 * Server has parsed (within `maxTokens`) and validated the document. The token limit itself
 * is the parser's (`createServer`'s `maxTokens`); this plugin only counts its refusals.
 */
export function useOperationLimits({
  limits,
  metrics,
}: UseOperationLimitsOptions): ApolloServerPlugin<GatewayContext> {
  const maxima: OperationShape = {
    depth: limits.maxDepth,
    aliases: limits.maxAliases,
    directives: limits.maxDirectives,
  };
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operationName }) {
          const shape = measureOperation(document, operationName);
          for (const limit of ["depth", "aliases", "directives"] as const) {
            if (shape[limit] > maxima[limit]) {
              metrics.limitRejections.inc({ limit });
              throw limitError(limit, shape[limit], maxima[limit]);
            }
          }
        },
        async didEncounterErrors({ errors }) {
          if (errors.some((error) => TOKEN_LIMIT.test(error.message))) {
            metrics.limitRejections.inc({ limit: "tokens" });
          }
        },
      };
    },
  };
}
