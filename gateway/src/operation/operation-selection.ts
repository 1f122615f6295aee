import type { ApolloServerPlugin } from "@apollo/server";
import { GraphQLError } from "graphql";
import type { GatewayContext } from "../edge/context.ts";

/**
 * Refuses a request whose document has no operation to run: an `operationName` it does not
 * contain, or several operations and no name. Apollo Server leaves that to execution, where a
 * plain server answers 400, but ApolloGateway's executor throws instead and the request ended
 * as an HTTP 500. Refused in `didResolveOperation`, so it is answered with HTTP 400, Apollo
 * Server's own code and graphql-js's own message, before anything is planned or charged.
 */
export function useOperationSelection(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, request }) {
          if (operation) return;
          const message = request.operationName
            ? `Unknown operation named "${request.operationName}".`
            : "Must provide operation name if query contains multiple operations.";
          throw new GraphQLError(message, {
            extensions: { code: "OPERATION_RESOLUTION_FAILURE", http: { status: 400 } },
          });
        },
      };
    },
  };
}
