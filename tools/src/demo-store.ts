import { graphqlOk } from "./graphql-client.ts";

/** The demo's discount code: 10% off, once per customer. */
export const DEMO_DISCOUNT_CODE = "WELCOME10";

type Errors = { userErrors: { code: string; message: string }[] };

const refused = (what: string, payload: Errors) =>
  new Error(`${what}: ${payload.userErrors.map((e) => `${e.code} ${e.message}`).join("; ")}`);

/**
 * Sets the demo store up for checkout economics through the gateway, as staff would: shipping
 * zones for the United States and Europe with their methods, tax rates, and the WELCOME10
 * code. Skipped when the store has shipping zones already (a later start, or a store set up by
 * its staff). Returns whether anything was set up.
 */
export async function seedDemoStore(endpoint: string, adminToken: string): Promise<boolean> {
  const auth = { authorization: `Bearer ${adminToken}` };
  const { shippingZones } = await graphqlOk<{ shippingZones: { id: string }[] }>(
    endpoint,
    "{ shippingZones { id } }",
    {},
    auth,
  );
  if (shippingZones.length > 0) return false;

  const zones = [
    {
      name: "United States",
      countries: ["US"],
      methods: [
        { name: "Standard (3–5 days)", rateType: "FLAT", amount: 599, freeAbove: 7500 },
        {
          name: "Express (1–2 days)",
          rateType: "SUBTOTAL_BANDS",
          bands: [
            { minSubtotal: 0, amount: 1999 },
            { minSubtotal: 10_000, amount: 1499 },
          ],
        },
      ],
    },
    {
      name: "Europe",
      countries: ["AT", "BE", "DE", "DK", "ES", "FI", "FR", "GB", "IE", "IT", "NL", "PT", "SE"],
      methods: [{ name: "International (5–10 days)", rateType: "FLAT", amount: 1999, freeAbove: 20_000 }],
    },
  ];
  for (const zone of zones) {
    const { createShippingZone } = await graphqlOk<{
      createShippingZone: Errors & { zone: { id: string } | null };
    }>(
      endpoint,
      "mutation ($input: CreateShippingZoneInput!) { createShippingZone(input: $input) { zone { id } userErrors { code message } } }",
      { input: { name: zone.name, countries: zone.countries } },
      auth,
    );
    if (!createShippingZone.zone) throw refused(`zone ${zone.name}`, createShippingZone);
    for (const method of zone.methods) {
      const { createShippingMethod } = await graphqlOk<{ createShippingMethod: Errors }>(
        endpoint,
        "mutation ($input: CreateShippingMethodInput!) { createShippingMethod(input: $input) { userErrors { code message } } }",
        { input: { zoneId: createShippingZone.zone.id, ...method } },
        auth,
      );
      if (createShippingMethod.userErrors.length > 0)
        throw refused(`method ${method.name}`, createShippingMethod);
    }
  }

  // Prices exclude tax unless PRICES_INCLUDE_TAX says otherwise; the demo address is in California.
  const rates = [
    { countryCode: "US", name: "Sales tax (California base rate)", ratePercent: 7.25 },
    { countryCode: "DE", name: "MwSt", ratePercent: 19 },
    { countryCode: "FR", name: "TVA", ratePercent: 20 },
    { countryCode: "GB", name: "VAT", ratePercent: 20 },
  ];
  for (const rate of rates) {
    const { setTaxRate } = await graphqlOk<{ setTaxRate: Errors }>(
      endpoint,
      "mutation ($input: SetTaxRateInput!) { setTaxRate(input: $input) { userErrors { code message } } }",
      { input: rate },
      auth,
    );
    if (setTaxRate.userErrors.length > 0) throw refused(`tax rate ${rate.countryCode}`, setTaxRate);
  }

  const { createDiscount } = await graphqlOk<{ createDiscount: Errors }>(
    endpoint,
    "mutation ($input: CreateDiscountInput!) { createDiscount(input: $input) { userErrors { code message } } }",
    {
      input: {
        code: DEMO_DISCOUNT_CODE,
        title: "10% off your first order",
        kind: "PERCENTAGE",
        percentOff: 10,
        perCustomerLimit: 1,
      },
    },
    auth,
  );
  // A store that has the code already (made by its staff) keeps its own.
  if (createDiscount.userErrors.some((e) => e.code !== "DUPLICATE_DISCOUNT_CODE")) {
    throw refused(`discount ${DEMO_DISCOUNT_CODE}`, createDiscount);
  }
  return true;
}
