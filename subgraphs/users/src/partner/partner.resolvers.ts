import { pageSize, requireViewer, toConnection } from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { decodePosition, encodePosition } from "../db/position.ts";
import { toPartnerClientModel } from "./partner.model.ts";
import { listPartnerClients } from "./partner.repository.ts";
import { createPartnerClient, revokePartnerClient } from "./partner.service.ts";

export const partnerResolvers: Resolvers = {
  Query: {
    partnerClients: async (_parent, { first, after, includeRevoked }, ctx) => {
      const limit = pageSize(first);
      const { rows, totalCount } = await listPartnerClients(ctx.db, {
        includeRevoked: includeRevoked === true,
        after: decodePosition(after),
        limit,
      });
      const page = toConnection(rows, limit, totalCount, (row) => encodePosition(row.position), !!after);
      return {
        ...page,
        edges: page.edges.map((edge) => ({ cursor: edge.cursor, node: toPartnerClientModel(edge.node) })),
      };
    },
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
