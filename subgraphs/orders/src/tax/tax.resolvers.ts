import { hasScope } from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { ppmToPercent } from "../pricing/pricing.ts";
import { deleteTaxRate, listTaxRates, setTaxRate } from "./tax.service.ts";

/** Tax rates are staff's (`store:settings`, enforced by the SDL). */
export const taxResolvers: Resolvers = {
  Query: {
    taxRates: (_parent, { countryCode }, ctx) => listTaxRates(ctx.db, countryCode),
  },
  Mutation: {
    setTaxRate: (_parent, { input }, ctx) => setTaxRate(ctx.db, input),
    deleteTaxRate: (_parent, { input }, ctx) => deleteTaxRate(ctx.db, input),
  },
  TaxRate: {
    // As `taxRates`: staff with `store:settings` only; anyone else gets null.
    __resolveReference: async (ref, ctx) =>
      hasScope(ctx.viewer, "store:settings") ? ctx.loaders.taxRateById.load(ref.id) : null,
    ratePercent: (rate) => ppmToPercent(rate.ratePpm),
  },
};
