import { createHash } from "node:crypto";
import type {
  GatewayExecutionResult,
  GatewayExecutor,
  GatewayGraphQLRequestContext,
  GatewayInterface,
} from "@apollo/server-gateway-interface";
import {
  type AccessDenial,
  type AccessRule,
  type AccessRules,
  accessError,
  checkAccess,
  fieldAccessRule,
  readAccessRules,
  type Viewer,
} from "@nexus/core";
import {
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
  getNamedType,
  getOperationAST,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  parse,
  print,
  type SelectionNode,
  type SelectionSetNode,
  visit,
} from "graphql";

const SECURITY_FEATURES = [
  "https://specs.apollo.dev/authenticated/",
  "https://specs.apollo.dev/requiresScopes/",
];

/**
 * `@apollo/gateway` refuses a supergraph that links `@authenticated` or `@requiresScopes`
 * `for: SECURITY`, because it does not enforce them. This gateway does (below), so it hands
 * ApolloGateway the supergraph with those two links no longer marked as security features.
 * Any other security feature still makes ApolloGateway refuse to start.
 */
export function declareAccessDirectivesEnforced(supergraphSdl: string): string {
  const document = visit(parse(supergraphSdl), {
    Directive(node: DirectiveNode) {
      if (node.name.value !== "link") return undefined;
      const url = node.arguments?.find((arg) => arg.name.value === "url")?.value;
      if (url?.kind !== Kind.STRING || !SECURITY_FEATURES.some((prefix) => url.value.startsWith(prefix))) {
        return undefined;
      }
      return { ...node, arguments: node.arguments?.filter((arg) => arg.name.value !== "for") };
    },
  });
  return print(document);
}

/** A field the viewer may not see: null goes at `path` ("@" steps into every list item). */
interface Withheld {
  path: readonly string[];
  field: string;
  denial: AccessDenial;
  rule: AccessRule;
}

export interface AuthorizedOperation {
  /** The operation without the withheld fields; the original document when nothing is withheld. */
  document: DocumentNode;
  withheld: Withheld[];
  /** Set when a withheld non-null field leaves no nullable parent: nothing may run. */
  refused: Withheld | null;
}

/** Keeps a selection set valid after every field in it was withheld; removed from the response. */
const PLACEHOLDER = "_nexusWithheld";
const placeholderField: FieldNode = {
  kind: Kind.FIELD,
  alias: { kind: Kind.NAME, value: PLACEHOLDER },
  name: { kind: Kind.NAME, value: "__typename" },
};

/**
 * Removes from an operation every field the viewer may not see, as the router does: before
 * planning, so no subgraph is asked for them. A withheld nullable field is recorded to come
 * back null with an error at its path. A withheld non-null field nulls its nearest nullable
 * parent field instead (the whole list when the parent is a list), and when no such parent
 * exists the operation is refused. Fragments are inlined where a change is needed.
 */
export function authorizeOperation(
  schema: GraphQLSchema,
  rules: AccessRules,
  document: DocumentNode,
  operationName: string | null,
  viewer: Viewer | null,
): AuthorizedOperation {
  const operation = getOperationAST(document, operationName);
  if (!operation) return { document, withheld: [], refused: null };
  const rootType = schema.getRootType(operation.operation);
  if (!rootType) return { document, withheld: [], refused: null };
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }

  const withheld: Withheld[] = [];

  /** Returns the filtered selection set, or the withheld non-null field that must null the parent. */
  const filter = (
    selectionSet: SelectionSetNode,
    parentType: GraphQLNamedType,
    path: readonly string[],
  ): { selectionSet: SelectionSetNode; nullParent: Withheld | null } => {
    const selections: SelectionNode[] = [];
    let nullParent: Withheld | null = null;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        const definition =
          isObjectType(parentType) || isInterfaceType(parentType) ? parentType.getFields()[name] : undefined;
        if (!definition || name.startsWith("__")) {
          selections.push(selection);
          continue;
        }
        const fieldPath = [...path, selection.alias?.value ?? name];
        const rule = fieldAccessRule(rules, parentType.name, name, getNamedType(definition.type));
        const denial = rule ? checkAccess(rule, viewer) : null;
        if (rule && denial) {
          const entry = { path: fieldPath, field: `${parentType.name}.${name}`, denial, rule };
          if (isNonNullType(definition.type)) nullParent ??= entry;
          else withheld.push(entry);
          continue;
        }
        if (!selection.selectionSet) {
          selections.push(selection);
          continue;
        }
        const child = filter(selection.selectionSet, getNamedType(definition.type), [
          ...fieldPath,
          ...listSteps(definition.type),
        ]);
        if (child.nullParent) {
          const entry = { ...child.nullParent, path: fieldPath };
          if (isNonNullType(definition.type)) nullParent ??= entry;
          else withheld.push(entry);
          continue;
        }
        selections.push({ ...selection, selectionSet: child.selectionSet });
        continue;
      }
      const fragment =
        selection.kind === Kind.INLINE_FRAGMENT
          ? selection
          : { ...fragments.get(selection.name.value), directives: selection.directives };
      if (!fragment.selectionSet) continue;
      const conditionName = fragment.typeCondition?.name.value;
      const child = filter(
        fragment.selectionSet,
        (conditionName && schema.getType(conditionName)) || parentType,
        path,
      );
      nullParent ??= child.nullParent;
      selections.push({
        kind: Kind.INLINE_FRAGMENT,
        typeCondition: fragment.typeCondition,
        directives: fragment.directives,
        selectionSet: child.selectionSet,
      });
    }
    if (selections.length === 0) selections.push(placeholderField);
    return { selectionSet: { ...selectionSet, selections }, nullParent };
  };

  const root = filter(operation.selectionSet, rootType, []);
  if (root.nullParent) return { document, withheld, refused: root.nullParent };
  if (withheld.length === 0) return { document, withheld, refused: null };
  const filtered: OperationDefinitionNode = { ...operation, selectionSet: root.selectionSet };
  return { document: { kind: Kind.DOCUMENT, definitions: [filtered] }, withheld, refused: null };
}

function listSteps(type: GraphQLOutputType): string[] {
  const steps: string[] = [];
  let current: GraphQLOutputType = type;
  for (;;) {
    if (isNonNullType(current)) current = current.ofType;
    else if (isListType(current)) {
      steps.push("@");
      current = current.ofType;
    } else return steps;
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Puts null at every concrete position of `path` in `data`, returning those positions. */
function nullAt(data: Json, path: readonly string[]): (string | number)[][] {
  const positions: (string | number)[][] = [];
  const walk = (value: Json, index: number, at: (string | number)[]) => {
    if (value === null || typeof value !== "object") return;
    const step = path[index] as string;
    if (step === "@") {
      if (Array.isArray(value)) {
        for (const [i, item] of value.entries()) walk(item, index + 1, [...at, i]);
      }
      return;
    }
    if (Array.isArray(value)) return;
    if (index === path.length - 1) {
      value[step] = null;
      positions.push([...at, step]);
      return;
    }
    walk(value[step] ?? null, index + 1, [...at, step]);
  };
  walk(data, 0, []);
  return positions;
}

function dropPlaceholders(value: Json): void {
  if (value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    for (const item of value) dropPlaceholders(item);
    return;
  }
  delete value[PLACEHOLDER];
  for (const item of Object.values(value)) dropPlaceholders(item);
}

function withheldError(entry: Withheld, path: readonly (string | number)[] | undefined): GraphQLError {
  const error = accessError(entry.denial, entry.rule);
  return new GraphQLError(`${entry.field}: ${error.message}`, { path, extensions: error.extensions });
}

/**
 * Wraps a gateway's executor so every operation is authorized against the supergraph's
 * `@authenticated` and `@requiresScopes` before it is planned. The viewer is the one the
 * gateway's context verified once for the request.
 *
 * Hand-written rather than an authorization plugin's: those refuse a whole operation, while
 * this removes only the fields the viewer may not see before planning (no subgraph is asked
 * for them) and puts them back as null with an error at each concrete path.
 */
export function useAccessControl(
  gateway: GatewayInterface,
  supergraphSdl: string,
  viewerOf: (context: object) => Viewer | null,
): GatewayInterface {
  const rules = readAccessRules(parse(supergraphSdl));
  const authorize =
    (execute: GatewayExecutor): GatewayExecutor =>
    async (requestContext: GatewayGraphQLRequestContext) => {
      const viewer = viewerOf(requestContext.context);
      const result = authorizeOperation(
        requestContext.schema,
        rules,
        requestContext.document,
        requestContext.operationName,
        viewer,
      );
      if (result.refused) {
        return { data: null, errors: [withheldError(result.refused, result.refused.path)] };
      }
      if (result.withheld.length === 0) return execute(requestContext);

      const source = print(result.document);
      // The query plan cache is keyed by this hash: the filtered operation needs its own.
      const queryHash = createHash("sha256").update(source).digest("hex");
      const response: GatewayExecutionResult = await execute({
        ...requestContext,
        document: result.document,
        source,
        queryHash,
      } as GatewayGraphQLRequestContext);

      const data = (response.data ?? null) as Json;
      const errors: GraphQLError[] = [...(response.errors ?? [])];
      for (const entry of result.withheld) {
        for (const position of nullAt(data, entry.path)) errors.push(withheldError(entry, position));
      }
      dropPlaceholders(data);
      return {
        ...response,
        data: data as GatewayExecutionResult["data"],
        errors: errors.length > 0 ? errors : undefined,
      };
    };

  return {
    async load(options) {
      const { executor } = await gateway.load(options);
      return { executor: executor && authorize(executor) };
    },
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    stop: () => gateway.stop(),
  };
}
