import { createHash } from "node:crypto";
import type { ApolloServerPlugin } from "@apollo/server";
import type {
  GatewayExecutor,
  GatewayGraphQLRequestContext,
  GatewayInterface,
} from "@apollo/server-gateway-interface";
import { toGlobalId } from "@nexus/core";
import { GraphQLError, getOperationAST, print } from "graphql";
import type { GatewayContext } from "../edge/context.ts";
import { ORDER_ID_VARIABLE, rewriteSubscription, STATUS_ALIAS, type SubscriptionField } from "./rewrite.ts";

/**
 * What one subscription learns and asks of each run of its operation. The context of a
 * payload's run carries it (`SubscriptionContext`); Apollo hands plugins and the executor a
 * shallow copy of the context, so this object is shared with them.
 */
export interface SubscriptionRun {
  /** Set by the executor once the operation ran: which field, and where its order sits. */
  field?: SubscriptionField;
  responseKey?: string;
  /** `orderUpdated`'s order. */
  orderId?: string | null;
  /** `myOrderUpdates`: the order of the notice this run answers; unset at subscribe time. */
  target?: string;
  /** The order's status in this run's result, when it had one. */
  status?: string | null;
}

/** A gateway context that runs a subscription's payload, not a plain request. */
export type SubscriptionContext = GatewayContext & { subscription: SubscriptionRun };

export function subscriptionRunOf(context: object): SubscriptionRun | undefined {
  return "subscription" in context ? (context as SubscriptionContext).subscription : undefined;
}

const TRANSPORTS =
  "GraphQL over Server-Sent Events at POST /graphql/stream, or GraphQL over WebSocket (graphql-ws) at /graphql";

/**
 * Subscriptions go through every policy queries go through, as the same Apollo Server request,
 * so the persisted-operation rules, limits, cost and access apply unchanged. This plugin only
 * keeps each kind of operation to its transport: a subscription sent to `POST /graphql` is
 * HTTP 400 naming the transports, and a query or mutation sent over a subscription transport
 * is refused the same way. Refused in `didResolveOperation`, before anything is charged or run.
 */
export function useSubscriptionTransport(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, contextValue }) {
          if (!operation) return;
          const streamed = subscriptionRunOf(contextValue) !== undefined;
          if (operation.operation === "subscription" && !streamed) {
            throw new GraphQLError(`Subscriptions are served over ${TRANSPORTS}.`, {
              extensions: { code: "BAD_REQUEST", http: { status: 400 } },
            });
          }
          if (operation.operation !== "subscription" && streamed) {
            throw new GraphQLError(
              `Only subscriptions are served here; send ${operation.operation} operations to POST /graphql.`,
              { extensions: { code: "BAD_REQUEST", http: { status: 400 } } },
            );
          }
        },
      };
    },
  };
}

/**
 * Wraps the gateway's executor (inside access control, which has already authorized the
 * subscription's own fields): a subscription operation is run as the equivalent `order` query
 * (rewrite.ts), and the status the rewrite added is moved from the result to the run.
 * Queries and mutations pass through untouched.
 */
export function useSubscriptionExecution(gateway: GatewayInterface): GatewayInterface {
  const wrap =
    (execute: GatewayExecutor): GatewayExecutor =>
    async (requestContext: GatewayGraphQLRequestContext) => {
      if (requestContext.operation.operation !== "subscription") return execute(requestContext);
      const run = subscriptionRunOf(requestContext.context);
      if (!run) throw new Error("a subscription reached the executor without its run");
      const variables = requestContext.request.variables ?? {};
      const rewritten = rewriteSubscription(requestContext.document, requestContext.operationName, variables);
      // Access control withheld the field: it puts the null and the error back itself.
      if (!rewritten) return { data: {} };
      run.field = rewritten.field;
      run.responseKey = rewritten.responseKey;
      run.orderId = rewritten.orderId;
      run.status = null;
      // At subscribe time `myOrderUpdates` has no order to show: the run only checked the operation.
      if (rewritten.field === "myOrderUpdates" && run.target === undefined) return { data: {} };

      const source = print(rewritten.document);
      const operation = getOperationAST(rewritten.document, requestContext.operationName);
      if (!operation) throw new Error("the rewritten subscription lost its operation");
      const result = await execute({
        ...requestContext,
        document: rewritten.document,
        source,
        // The query plan cache is keyed by this hash: the rewritten operation needs its own.
        queryHash: createHash("sha256").update(source).digest("hex"),
        operation,
        request: {
          ...requestContext.request,
          variables:
            rewritten.field === "myOrderUpdates"
              ? { ...variables, [ORDER_ID_VARIABLE]: toGlobalId("Order", run.target ?? "") }
              : variables,
        },
      } as GatewayGraphQLRequestContext);

      const order = result.data?.[rewritten.responseKey];
      if (order && typeof order === "object" && !Array.isArray(order)) {
        const fields = order as Record<string, unknown>;
        run.status = typeof fields[STATUS_ALIAS] === "string" ? fields[STATUS_ALIAS] : null;
        delete fields[STATUS_ALIAS];
      }
      return result;
    };

  return {
    async load(options) {
      const { executor } = await gateway.load(options);
      return { executor: executor && wrap(executor) };
    },
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    stop: () => gateway.stop(),
  };
}
