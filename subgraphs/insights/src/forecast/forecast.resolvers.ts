import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { demandForecast, productWeeksOfCover, salesForecast } from "./forecast.service.ts";

export const forecastResolvers: Resolvers = {
  Query: {
    salesForecast: (_parent, { weeks }, ctx) => salesForecast(ctx.db, weeks),
  },
  Product: {
    demandForecast: (product, { weeks }, ctx) => demandForecast({ loaders: ctx.loaders }, product.id, weeks),
    // `inventory.available` comes with the reference, fetched by the gateway from inventory.
    weeksOfCover: (product, _args, ctx) => {
      const available = product.inventory?.available;
      if (typeof available !== "number") return null;
      return productWeeksOfCover({ loaders: ctx.loaders }, product.id, available);
    },
  },
};
