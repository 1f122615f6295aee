/** Money in minor units (cents): never a float. */
export interface Money {
  amount: number;
  currencyCode: string;
}

/** Nexus prices one store in one currency; multi-currency is a catalog concern for later. */
export const DEFAULT_CURRENCY = "USD";
