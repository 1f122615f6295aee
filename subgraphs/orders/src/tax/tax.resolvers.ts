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
    ratePercent: (rate) => ppmToPercent(rate.ratePpm),
  },
};
