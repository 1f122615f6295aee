import { GraphQLError, type ValidationRule } from "graphql";

/**
 * Refuses operations of a type the schema has no root type for (the gateway's rule; its
 * subscriptions are served over their own transports, subscription/ in the gateway). graphql-js 16 validates nothing of the kind, so without
 * this rule the operation reached execution and failed there, in a gateway as an HTTP 500.
 * As a validation rule it answers HTTP 400 GRAPHQL_VALIDATION_FAILED before any plugin sees
 * the operation, and it lifts by itself once a schema declares the root type.
 */
export const servedOperationTypesRule: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (context.getSchema().getRootType(node.operation)) return;
    context.reportError(
      new GraphQLError(`This service does not serve ${node.operation} operations.`, { nodes: node }),
    );
  },
});

/**
 * A subgraph's rule: subscriptions are the gateway's (it runs each payload as a query), so a
 * subgraph refuses every subscription operation, also when its SDL declares the root type for
 * the supergraph's sake, as orders' does. HTTP 400 GRAPHQL_VALIDATION_FAILED, as above.
 */
export const subgraphOperationTypesRule: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (node.operation !== "subscription" && context.getSchema().getRootType(node.operation)) return;
    context.reportError(
      new GraphQLError(`This service does not serve ${node.operation} operations.`, { nodes: node }),
    );
  },
});
