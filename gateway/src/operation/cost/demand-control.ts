import { type ApolloServerPlugin, HeaderMap } from "@apollo/server";
import { GraphQLError, parse } from "graphql";
import { clientKey, type GatewayContext } from "../../edge/context.ts";
import { type ClientLimits, rateLimitedError } from "../../edge/rate-limit.ts";
import type { GatewayMetrics } from "../../observability/metrics.ts";
import { estimateCost, readCostDirectives } from "./cost.ts";
import type { BudgetStatus } from "./cost-budget.ts";

/** What every response to a costed operation carries as `extensions.cost`. */
export interface CostExtension {
  /** The operation's estimated cost: what it was charged, or would have been. */
  requestedQueryCost: number;
  /** The client's bucket size. */
  maximumAvailable: number;
  /** Points left in the client's bucket after this operation. */
  currentlyAvailable: number;
  /** Points the bucket regains per second. */
  restoreRate: number;
}

export interface UseDemandControlOptions {
  /** The supergraph whose `@cost` and `@listSize` the estimate follows. */
  supergraphSdl: string;
  /** The most one operation may cost. */
  maxCost: number;
  /** Every client's rate window and budget, shared by the replicas. */
  limits: ClientLimits;
  metrics: GatewayMetrics;
}

/**
 * Apollo-style demand control before planning. Each operation's cost is estimated statically
 * from the supergraph's `@cost`/`@listSize` and the request's variables (`cost.ts`):
 * - more than `maxCost` is refused with HTTP 400 and Apollo router's code
 *   COST_ESTIMATED_TOO_EXPENSIVE, whatever the budget holds;
 * - otherwise the cost is taken from the client's budget (`clientKey`); an empty budget is
 *   HTTP 429 COST_BUDGET_EXCEEDED with Retry-After.
 * The budget is charged in `responseForOperation`, which Apollo Server calls only once every
 * plugin's `didResolveOperation` has passed, so an operation another limit refuses costs
 * nothing. Either refusal comes before the gateway plans, so no subgraph is called. Every
 * response whose cost is known carries `extensions.cost` (CostExtension); the estimate is
 * charged as it is, with no refund when lists come back shorter.
 *
 * The charge is also where the request is counted in its client's rate window, in the same
 * Redis round trip (`ClientLimits.charge`); a request over its window is refused with HTTP 429
 * RATE_LIMITED and charged nothing. A request that never reaches the charge (a parse or
 * validation error, another limit, an unknown persisted query) is counted with a cost of 0 as
 * its response is sent, so it counts against the rate limit too. When Redis does not answer
 * in time, this replica's buckets decide (rate-limit.ts).
 *
 * Hand-written rather than a library's: Apollo's demand control is a feature of its Router,
 * not a plugin for `@apollo/server`, and the cost must be known before planning, from the
 * supergraph's own `@cost` and `@listSize`, for a refusal to call no subgraph.
 */
export function useDemandControl({
  supergraphSdl,
  maxCost,
  limits,
  metrics,
}: UseDemandControlOptions): ApolloServerPlugin<GatewayContext> {
  const directives = readCostDirectives(parse(supergraphSdl));
  return {
    async requestDidStart() {
      let cost: number | null = null;
      let status: BudgetStatus | null = null;
      let counted = false;
      return {
        async didResolveOperation({ schema, document, operationName, request, contextValue }) {
          cost = estimateCost(schema, directives, document, operationName, request.variables);
          if (cost <= maxCost) return;
          metrics.limitRejections.inc({ limit: "cost" });
          // Charged nothing, but counted; the response still tells the client where its budget stands.
          counted = true;
          const decision = await limits.charge(clientKey(contextValue), 0);
          if (decision.refusedBy !== "rate") status = decision.budget;
          throw new GraphQLError(
            `The operation's estimated cost is ${cost}, more than the limit of ${maxCost}. Ask for fewer items (a smaller first:) or fewer nested lists.`,
            {
              extensions: {
                code: "COST_ESTIMATED_TOO_EXPENSIVE",
                limit: maxCost,
                actual: cost,
                http: { status: 400 },
              },
            },
          );
        },
        async responseForOperation({ contextValue }) {
          const requested = cost ?? 0;
          counted = true;
          const decision = await limits.charge(clientKey(contextValue), requested);
          if (decision.refusedBy === "rate") {
            metrics.limitRejections.inc({ limit: "rate" });
            const error = rateLimitedError(limits.window, decision.retryAfterSeconds);
            const { http: _http, ...extensions } = error.extensions;
            return {
              http: {
                status: 429,
                headers: new HeaderMap([["retry-after", String(decision.retryAfterSeconds)]]),
              },
              body: { kind: "single", singleResult: { errors: [{ message: error.message, extensions }] } },
            };
          }
          status = decision.budget;
          if (decision.refusedBy === null) return null;
          metrics.limitRejections.inc({ limit: "budget" });
          const { currentlyAvailable, restoreRate, retryAfterSeconds } = status;
          return {
            http: { status: 429, headers: new HeaderMap([["retry-after", String(retryAfterSeconds)]]) },
            body: {
              kind: "single",
              singleResult: {
                errors: [
                  {
                    message: `The operation costs ${requested} but this client's budget holds ${currentlyAvailable}; it regains ${restoreRate} per second. Retry after ${retryAfterSeconds} s.`,
                    extensions: { code: "COST_BUDGET_EXCEEDED", retryAfterSeconds },
                  },
                ],
              },
            },
          };
        },
        async willSendResponse({ response, contextValue }) {
          if (!counted) await limits.charge(clientKey(contextValue), 0);
          if (cost === null || status === null || response.body.kind !== "single") return;
          const extension: CostExtension = {
            requestedQueryCost: cost,
            maximumAvailable: status.maximumAvailable,
            currentlyAvailable: status.currentlyAvailable,
            restoreRate: status.restoreRate,
          };
          const result = response.body.singleResult;
          result.extensions = { ...result.extensions, cost: extension };
        },
      };
    },
  };
}
