import { readdirSync } from "node:fs";
import type { CodegenConfig } from "@graphql-codegen/cli";

/**
 * Resolver types for every subgraph, generated from its own SDL in schema/.
 * Mappers point each GraphQL type at the model its resolvers receive as parent,
 * so a resolver that returns a database row instead of a model fails to typecheck.
 */
const mappers: Record<string, Record<string, string>> = {
  users: {
    User: "../user/user.model.ts#UserModel",
    Address: "../address/address.model.ts#AddressModel",
    PartnerClient: "../partner/partner.model.ts#PartnerClientModel",
    // Key-only stubs that answer `node`; their owners resolve every other field.
    Product: "../node/node.model.ts#NodeRef",
    Category: "../node/node.model.ts#NodeRef",
    Review: "../node/node.model.ts#NodeRef",
    Order: "../node/node.model.ts#NodeRef",
    Discount: "../node/node.model.ts#NodeRef",
    ShippingZone: "../node/node.model.ts#NodeRef",
    ShippingMethod: "../node/node.model.ts#NodeRef",
    TaxRate: "../node/node.model.ts#NodeRef",
  },
  catalog: {
    Product: "../product/product.model.ts#ProductModel",
    ProductConnection: "../product/product.model.ts#ProductConnectionModel",
    ProductFeedConnection: "../product/product.model.ts#ProductFeedConnectionModel",
    ProductFacets: "../product/product.model.ts#ProductFacetsModel",
    CategoryFacet: "../product/product.model.ts#CategoryFacetModel",
    Category: "../category/category.model.ts#CategoryModel",
    Review: "../review/review.model.ts#ReviewModel",
    User: "@nexus/core#EntityRef",
  },
  orders: {
    Order: "../order/order.model.ts#OrderModel",
    OrderLine: "../order/order.model.ts#OrderLineModel",
    OrderDiscount: "../order/order.model.ts#OrderDiscountModel",
    OrderStatusChange: "../order/order.model.ts#OrderStatusChangeModel",
    OrderStatusReport: "../order/order.model.ts#OrderStatusReportModel",
    OrderStatusStep: "../order/order.model.ts#OrderStatusChangeModel",
    Payment: "../payment/payment.model.ts#PaymentModel",
    Refund: "../refund/refund.model.ts#RefundModel",
    RefundLine: "../refund/refund.model.ts#RefundLineModel",
    Shipment: "../shipment/shipment.model.ts#ShipmentModel",
    ShipmentLine: "../shipment/shipment.model.ts#ShipmentLineModel",
    Cart: "../cart/cart.model.ts#CartModel",
    CartLine: "../cart/cart.model.ts#CartLineInCart",
    WishlistItem: "../wishlist/wishlist.model.ts#WishlistItemModel",
    Discount: "../discount/discount.model.ts#DiscountModel",
    ShippingZone: "../shipping/shipping.model.ts#ShippingZoneModel",
    ShippingMethod: "../shipping/shipping.model.ts#ShippingMethodModel",
    TaxRate: "../tax/tax.model.ts#TaxRateModel",
    Product: "@nexus/core#EntityRef",
    User: "@nexus/core#EntityRef",
  },
  inventory: {
    Product: "@nexus/core#EntityRef",
    InventoryLevel: "../stock/stock.model.ts#InventoryLevelModel",
    StockMovement: "../stock/stock.model.ts#StockMovementModel",
    Order: "@nexus/core#EntityRef",
    User: "@nexus/core#EntityRef",
  },
  insights: {
    Product: "../forecast/forecast.model.ts#ProductRef",
    User: "@nexus/core#EntityRef",
    Order: "@nexus/core#EntityRef",
    DemandForecast: "../forecast/forecast.model.ts#DemandForecastModel",
    SalesForecast: "../forecast/forecast.model.ts#SalesForecastModel",
    OrderRiskAssessment: "../risk/risk.model.ts#RiskAssessmentModel",
    ProductSales: "../sales/sales.model.ts#ProductSalesModel",
    ProductPerformance: "../sales/sales.model.ts#ProductPerformanceModel",
    AbandonedCart: "../carts/carts.model.ts#AbandonedCartModel",
    AbandonedCartLine: "../carts/carts.model.ts#AbandonedCartLineModel",
    FailedEvent: "../failed/failed.model.ts#FailedEventModel",
    ChurnModel: "../churn/churn.model.ts#ChurnModelModel",
    ChurnTrainingRun: "../churn/churn.model.ts#ChurnTrainingRunModel",
    CustomerInsights: "../customers/customers.model.ts#CustomerInsightsModel",
    CustomerInsight: "../customers/customers.model.ts#CustomerInsightsModel",
  },
  notifications: {
    User: "@nexus/core#EntityRef",
    Notification: "../inbox/inbox.model.ts#NotificationModel",
    NotificationPreference: "../preferences/preferences.model.ts#NotificationPreferenceModel",
  },
};

/**
 * A persisted query manifest per client folder of schema/operations/ that holds operations,
 * validated against the supergraph's API schema; the gateway loads them at start-up.
 */
const OPERATIONS = "schema/operations";
const clients = readdirSync(OPERATIONS, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .filter((client) => readdirSync(`${OPERATIONS}/${client}`).some((file) => file.endsWith(".graphql")))
  .sort();

const manifests: CodegenConfig["generates"] = Object.fromEntries(
  clients.map((client) => [
    `${OPERATIONS}/${client}/persisted-query-manifest.json`,
    {
      schema: "schema/supergraph.graphql",
      documents: `${OPERATIONS}/${client}/*.graphql`,
      plugins: ["./tools/src/persisted-query-manifest.ts"],
      // Checked by the plugin instead, against the API schema, every problem at once.
      config: { client, supergraph: "schema/supergraph.graphql", skipDocumentsValidation: true },
    },
  ]),
);

/**
 * The resolvers plugin types every directive resolver `<any, any, ContextType>`. No subgraph
 * implements directives as resolvers (the kit reads them from the SDL), so they get `unknown`.
 */
const withoutAnyInDirectiveResolvers = (_path: string, content: string): string =>
  content.replaceAll(
    "DirectiveResolver<any, any, ContextType>",
    "DirectiveResolver<unknown, unknown, ContextType>",
  );

const config: CodegenConfig = {
  overwrite: true,
  generates: {
    ...manifests,
    ...Object.fromEntries(
      Object.entries(mappers).map(([subgraph, typeMappers]) => [
        `subgraphs/${subgraph}/src/__generated__/resolvers-types.ts`,
        {
          schema: `schema/${subgraph}.graphql`,
          hooks: { beforeOneFileWrite: withoutAnyInDirectiveResolvers },
          plugins: [
            { add: { content: "/* Generated by `pnpm codegen` from schema/ — do not edit. */" } },
            "typescript",
            "typescript-resolvers",
          ],
          config: {
            federation: true,
            useIndexSignature: true,
            useTypeImports: true,
            enumsAsTypes: true,
            avoidOptionals: { field: true, inputValue: false, object: false, defaultValue: false },
            contextType: "../context.ts#Context",
            mappers: typeMappers,
            scalars: { DateTime: { input: "Date", output: "Date | string" } },
          },
        },
      ]),
    ),
  },
};

export default config;
