import { rawIdOf } from "@nexus/core";
import {
  type DefinitionNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLID,
  getOperationAST,
  type InlineFragmentNode,
  Kind,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
  valueFromAST,
} from "graphql";

/** The subscription root fields the gateway serves, each answered by the `order` query field. */
export const SUBSCRIPTION_FIELDS = ["orderUpdated", "myOrderUpdates"] as const;
export type SubscriptionField = (typeof SUBSCRIPTION_FIELDS)[number];

/**
 * Added to the order's selection so the gateway learns the status (and so when to complete)
 * whatever the client selected; removed from the payload before it is sent.
 */
export const STATUS_ALIAS = "_nexusOrderStatus";
/** The variable that carries a notice's order id into a `myOrderUpdates` payload's query. */
export const ORDER_ID_VARIABLE = "_nexusOrderId";

export interface RewrittenSubscription {
  /** The same operation as a query of `order(id)`, every fragment kept. */
  document: DocumentNode;
  field: SubscriptionField;
  /** Where the order sits in the result: the field's alias, else its name. */
  responseKey: string;
  /** `orderUpdated`'s `id`, from its literal or its variable; null for `myOrderUpdates`. */
  orderId: string | null;
}

/**
 * Turns `subscription X($id: ID!) { orderUpdated(id: $id) { SEL } }` into
 * `query X($id: ID!) { orderUpdated: order(id: $id) { SEL _nexusOrderStatus: status } }`, and
 * `myOrderUpdates { SEL }` into `myOrderUpdates: order(id: $_nexusOrderId) { ... }`: a payload is
 * the `order` query run with the subscriber's credentials, so ownership is that field's own
 * check, federated fields resolve as in any query, and the response keeps the subscription's
 * shape. Returns null when the operation selects no subscription field (access control removed
 * it): there is then nothing to run.
 */
export function rewriteSubscription(
  document: DocumentNode,
  operationName: string | null,
  variables: Readonly<Record<string, unknown>>,
): RewrittenSubscription | null {
  const operation = getOperationAST(document, operationName);
  if (operation?.operation !== "subscription") {
    throw new Error("rewriteSubscription takes a subscription operation");
  }
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }

  const found: { value: Omit<RewrittenSubscription, "document"> | null } = { value: null };
  const rewrittenFragments = new Map<string, FragmentDefinitionNode>();

  const rewriteField = (field: FieldNode): FieldNode => {
    const name = field.name.value;
    if (name !== "orderUpdated" && name !== "myOrderUpdates") return field;
    const responseKey = field.alias?.value ?? name;
    let orderId: string | null = null;
    let args = field.arguments ?? [];
    if (name === "orderUpdated") {
      const id = args.find((arg) => arg.name.value === "id");
      const value = id ? valueFromAST(id.value, GraphQLID, variables) : undefined;
      if (typeof value !== "string") throw new Error("orderUpdated needs its id");
      // Notices name orders by raw id; the client may send the global one (or, for now, raw).
      orderId = rawIdOf(value, "Order") ?? value;
    } else {
      args = [
        {
          kind: Kind.ARGUMENT,
          name: { kind: Kind.NAME, value: "id" },
          value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: ORDER_ID_VARIABLE } },
        },
      ];
    }
    found.value = { field: name, responseKey, orderId };
    const statusField: FieldNode = {
      kind: Kind.FIELD,
      alias: { kind: Kind.NAME, value: STATUS_ALIAS },
      name: { kind: Kind.NAME, value: "status" },
    };
    return {
      ...field,
      alias: { kind: Kind.NAME, value: responseKey },
      name: { kind: Kind.NAME, value: "order" },
      arguments: args,
      selectionSet: {
        kind: Kind.SELECTION_SET,
        selections: [...(field.selectionSet?.selections ?? []), statusField],
      },
    };
  };

  // Only root selections change; fragments on Subscription become fragments on Query.
  const rewriteRoot = (selectionSet: SelectionSetNode): SelectionSetNode => ({
    ...selectionSet,
    selections: selectionSet.selections.map((selection): SelectionNode => {
      if (selection.kind === Kind.FIELD) return rewriteField(selection);
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const inline: InlineFragmentNode = {
          ...selection,
          typeCondition: selection.typeCondition && queryType(),
          selectionSet: rewriteRoot(selection.selectionSet),
        };
        return inline;
      }
      const name = selection.name.value;
      const fragment = fragments.get(name);
      if (fragment && !rewrittenFragments.has(name)) {
        rewrittenFragments.set(name, {
          ...fragment,
          typeCondition: queryType(),
          selectionSet: rewriteRoot(fragment.selectionSet),
        });
      }
      return selection;
    }),
  });

  const selectionSet = rewriteRoot(operation.selectionSet);
  const result = found.value;
  if (!result) return null;
  const query: OperationDefinitionNode = {
    ...operation,
    operation: "query" as OperationDefinitionNode["operation"],
    selectionSet,
    variableDefinitions:
      result.field === "myOrderUpdates"
        ? [
            ...(operation.variableDefinitions ?? []),
            {
              kind: Kind.VARIABLE_DEFINITION,
              variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: ORDER_ID_VARIABLE } },
              type: {
                kind: Kind.NON_NULL_TYPE,
                type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: "ID" } },
              },
            },
          ]
        : operation.variableDefinitions,
  };
  // Other operations of the document are dropped: only this one runs.
  const definitions: DefinitionNode[] = [];
  for (const definition of document.definitions) {
    if (definition === operation) definitions.push(query);
    else if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      definitions.push(rewrittenFragments.get(definition.name.value) ?? definition);
    } else if (definition.kind !== Kind.OPERATION_DEFINITION) definitions.push(definition);
  }
  return { ...result, document: { ...document, definitions } };
}

const queryType = () => ({ kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: "Query" } }) as const;
