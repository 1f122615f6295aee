/** Money as Nexus sends it: an integer amount in the currency's minor unit (1999 USD is $19.99). */

export interface Money {
  amount: number;
  currencyCode: string;
}

/** "$19.99" for { amount: 1999, currencyCode: "USD" }, "¥500" for 500 JPY (no minor unit). */
export function formatMoney(money: Money, locale = "en-US"): string {
  const format = new Intl.NumberFormat(locale, { style: "currency", currency: money.currencyCode });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(money.amount / 10 ** digits);
}
