/**
 * The whole stack set up for fuzzing: demo data and a few demo orders, per-client limits
 * (rate, cost budget) raised so every case runs instead of being refused for the ones before
 * it, the circuit breaker off so a subgraph failing some cases cannot turn later ones into
 * SUBGRAPH_UNAVAILABLE, and the operation limits (depth, aliases, cost) as deployed.
 */
import { readFileSync } from "node:fs";
import { parseGlobalId } from "@nexus/core";
import { DEMO_ACCOUNTS, DEMO_PARTNER } from "@nexus/users/demo";
import type { GraphQLSchema } from "graphql";
import { apiSchemaOf } from "../composition.ts";
import { placeDemoOrders } from "../demo-orders.ts";
import { graphqlOk } from "../graphql-client.ts";
import { type Stack, startStack } from "../stack.ts";
import { SUPERGRAPH_PATH } from "../subgraphs.ts";
import type { Credentials } from "./run.ts";
import { demoKnownValues, type KnownValues } from "./values.ts";

export const FUZZ_STACK_ENV: Readonly<Record<string, string>> = {
  RATE_LIMIT_PER_MINUTE: "100000000",
  COST_BUDGET_CAPACITY: "100000000",
  COST_BUDGET_REFILL_PER_SECOND: "100000000",
  CIRCUIT_BREAKER_FAILURES: "0",
};

export interface FuzzStack {
  stack: Stack;
  /** The client-facing schema: the supergraph without its join__/link__ machinery. */
  schema: GraphQLSchema;
  known: KnownValues;
  credentials: Credentials;
}

export async function startFuzzStack(mongoUrl: string): Promise<FuzzStack> {
  const stack = await startStack({ mongoUrl, env: { ...FUZZ_STACK_ENV } });
  try {
    await placeDemoOrders(stack.endpoint);
    const ids = new Map<string, string>();
    for (const account of DEMO_ACCOUNTS) {
      const { login } = await graphqlOk<{ login: { user: { id: string } | null } }>(
        stack.endpoint,
        "mutation ($input: LoginInput!) { login(input: $input) { user { id } } }",
        { input: { email: account.email, password: account.password } },
      );
      if (!login.user) throw new Error(`cannot sign in as ${account.email}`);
      // Tokens name the account by its raw id, as users signs them.
      ids.set(account.role, parseGlobalId(login.user.id)?.raw ?? login.user.id);
    }
    const known = demoKnownValues();
    const { me } = await graphqlOk<{ me: { orders: { edges: { node: { id: string } }[] } } }>(
      stack.endpoint,
      "{ me { orders(first: 50) { edges { node { id } } } } }",
      {},
      { authorization: await stack.auth.bearer(ids.get("CUSTOMER") ?? "", "CUSTOMER") },
    );
    // The demo accounts are real users with orders, so `me`, `order` and friends have data.
    // Tokens are signed for every case with the role in their claims, so a fuzzed mutation
    // that changes an account's role or password in the database cannot lock the fuzz out;
    // ids are never learned from answers, so it cannot revoke the demo partner either.
    const credentials: Credentials = async (role): Promise<Record<string, string>> => {
      switch (role) {
        case "anonymous":
          return {};
        case "partner":
          return { "x-api-key": DEMO_PARTNER.apiKey };
        case "customer":
          return { authorization: await stack.auth.bearer(ids.get("CUSTOMER") ?? "", "CUSTOMER") };
        case "admin":
          return { authorization: await stack.auth.bearer(ids.get("ADMIN") ?? "", "ADMIN") };
      }
    };
    return {
      stack,
      schema: apiSchemaOf(readFileSync(SUPERGRAPH_PATH, "utf8")),
      known: {
        ...known,
        userIds: [...ids.values(), ...known.userIds],
        orderIds: me.orders.edges.map((edge) => edge.node.id),
      },
      credentials,
    };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}
