import { requireViewer } from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { currentKey } from "./partner.model.ts";
import {
  createPartnerApiKey,
  createPartnerClient,
  listPartnerClientPage,
  readPartnerManifest,
  revokePartnerApiKey,
  revokePartnerClient,
} from "./partner.service.ts";

export const partnerResolvers: Resolvers = {
  Query: {
    partnerClients: (_parent, args, ctx) => listPartnerClientPage(ctx.db, args),
    partnerManifest: (_parent, args, ctx) =>
      readPartnerManifest({ db: ctx.db, manifests: ctx.manifests }, requireViewer(ctx.viewer), args),
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
    createPartnerApiKey: async (_parent, { input }, ctx) => {
      const result = await createPartnerApiKey(ctx.db, input, requireViewer(ctx.viewer).userId);
      return result.ok
        ? { key: result.key, apiKey: result.apiKey, userErrors: [] }
        : { key: null, apiKey: null, userErrors: result.userErrors };
    },
    revokePartnerApiKey: async (_parent, { input }, ctx) => {
      const result = await revokePartnerApiKey(ctx.db, input.id);
      return result.ok ? { key: result.key, userErrors: [] } : { key: null, userErrors: result.userErrors };
    },
  },
  PartnerClient: {
    apiKeys: async (client, { includeRevoked }, ctx) => {
      const keys = await ctx.loaders.apiKeysByClientId.load(client.id);
      return includeRevoked ? keys : keys.filter((key) => key.revokedAt === null);
    },
    keyPrefix: async (client, _args, ctx) =>
      currentKey(await ctx.loaders.apiKeysByClientId.load(client.id))?.prefix ?? "",
    lastUsedAt: async (client, _args, ctx) => {
      const used = (await ctx.loaders.apiKeysByClientId.load(client.id)).flatMap(
        (key) => key.lastUsedAt ?? [],
      );
      return used.length === 0 ? null : new Date(Math.max(...used.map((at) => at.getTime())));
    },
  },
};
