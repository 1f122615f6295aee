import { requireViewer } from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { createPartnerClient, listPartnerClientPage, revokePartnerClient } from "./partner.service.ts";

export const partnerResolvers: Resolvers = {
  Query: {
    partnerClients: (_parent, args, ctx) => listPartnerClientPage(ctx.db, args),
  },
  Mutation: {
    createPartnerClient: async (_parent, { input }, ctx) => {
      const result = await createPartnerClient(ctx.db, input, requireViewer(ctx.viewer).userId);
      return result.ok
        ? { client: result.client, apiKey: result.apiKey, userErrors: [] }
        : { client: null, apiKey: null, userErrors: result.userErrors };
    },
    revokePartnerClient: async (_parent, { input }, ctx) => {
      const result = await revokePartnerClient(ctx.db, input.id);
      return result.ok
        ? { client: result.client, userErrors: [] }
        : { client: null, userErrors: result.userErrors };
    },
  },
};
