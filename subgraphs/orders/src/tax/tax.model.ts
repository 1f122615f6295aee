/** What TaxRate resolvers receive. */
export interface TaxRateModel {
  id: string;
  countryCode: string;
  categoryId: string | null;
  name: string;
  ratePpm: number;
}
