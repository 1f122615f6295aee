import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  getDirectiveValues,
  getOperationAST,
  type InlineFragmentNode,
  Kind,
  type SelectionSetNode,
} from "graphql";

/** A response path in a subgraph fetch's own terms, e.g. `["_entities", 3, "name"]`. */
export type FetchPath = (string | number)[];

type Variables = Readonly<Record<string, unknown>> | undefined;

/**
 * Every path a subgraph fetch that failed as a whole leaves without a value: each root field
 * of a root fetch (`["me"]`), and each field asked of each entity of an `_entities` fetch
 * (`["_entities", 3, "name"]`). An error given one of these paths in the fetch's response is
 * moved by `@apollo/gateway` to the place it has in the client's response (the gateway knows
 * where entity 3 came from: `["orders", 0, "lines", 2, "product", "name"]`), which is why the
 * data source reports a failed fetch this way rather than by throwing, which gives an error
 * without any path.
 *
 * `@skip` and `@include` are honoured. An entity whose type no fragment of the fetch names
 * (an interface condition, which the query planner does not emit for entity fetches today)
 * gets the path of the entity itself.
 */
export function missingPaths(
  document: DocumentNode,
  operationName: string | undefined,
  variables: Variables,
): FetchPath[] {
  const operation = getOperationAST(document, operationName);
  if (!operation) return [];
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const fieldsOf = (selectionSet: SelectionSetNode, typename: string | undefined) =>
    collectFields(selectionSet, typename, fragments, variables);

  const paths: FetchPath[] = [];
  for (const [name, field] of fieldsOf(operation.selectionSet, undefined)) {
    const representations = variables?.representations;
    if (field.name.value !== "_entities" || !field.selectionSet || !Array.isArray(representations)) {
      paths.push([name]);
      continue;
    }
    for (const [index, representation] of representations.entries()) {
      const names = [...fieldsOf(field.selectionSet, typenameOf(representation)).keys()];
      if (names.length === 0) paths.push([name, index]);
      for (const fieldName of names) paths.push([name, index, fieldName]);
    }
  }
  return paths;
}

/**
 * The fields a selection set asks for, by response name, for an object of type `typename`
 * (undefined: whatever the type). Meta fields such as `__typename` are left out: the gateway
 * fills them in without the subgraph.
 */
function collectFields(
  selectionSet: SelectionSetNode,
  typename: string | undefined,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  variables: Variables,
  fields = new Map<string, FieldNode>(),
): Map<string, FieldNode> {
  for (const selection of selectionSet.selections) {
    if (!included(selection, variables)) continue;
    if (selection.kind === Kind.FIELD) {
      const name = selection.alias?.value ?? selection.name.value;
      if (!selection.name.value.startsWith("__") && !fields.has(name)) fields.set(name, selection);
      continue;
    }
    const fragment: Pick<InlineFragmentNode, "typeCondition" | "selectionSet"> | undefined =
      selection.kind === Kind.INLINE_FRAGMENT ? selection : fragments.get(selection.name.value);
    if (!fragment) continue;
    const condition = fragment.typeCondition?.name.value;
    if (typename !== undefined && condition !== undefined && condition !== typename) continue;
    collectFields(fragment.selectionSet, typename, fragments, variables, fields);
  }
  return fields;
}

function included(node: Parameters<typeof getDirectiveValues>[1], variables: Variables): boolean {
  const values = variables as Record<string, unknown> | undefined;
  if (getDirectiveValues(GraphQLSkipDirective, node, values)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, node, values)?.if !== false;
}

function typenameOf(representation: unknown): string | undefined {
  if (typeof representation !== "object" || representation === null || !("__typename" in representation)) {
    return undefined;
  }
  return typeof representation.__typename === "string" ? representation.__typename : undefined;
}
