/**
 * Country names as invoice-line exports write them -> ISO 3166-1 alpha-2 codes.
 *
 * Names that are not one country map to null, deliberately: `Unspecified`, `European Community`
 * and `West Indies` name no single country, and `Channel Islands` is Jersey (JE) or Guernsey
 * (GG), which the name cannot tell apart (neither is part of GB in ISO 3166). A value that is
 * already an upper-case alpha-2 code is kept (after the table, so `UK` becomes GB). Anything else is unknown: null, and the importer reports it.
 */

const NAMES: Record<string, string | null> = {
  "united kingdom": "GB",
  uk: "GB",
  "great britain": "GB",
  england: "GB",
  scotland: "GB",
  wales: "GB",
  "northern ireland": "GB",
  eire: "IE",
  ireland: "IE",
  "channel islands": null,
  unspecified: null,
  "european community": null,
  "west indies": null,
  france: "FR",
  germany: "DE",
  netherlands: "NL",
  "the netherlands": "NL",
  belgium: "BE",
  switzerland: "CH",
  spain: "ES",
  portugal: "PT",
  italy: "IT",
  austria: "AT",
  denmark: "DK",
  sweden: "SE",
  norway: "NO",
  finland: "FI",
  iceland: "IS",
  poland: "PL",
  "czech republic": "CZ",
  czechia: "CZ",
  lithuania: "LT",
  greece: "GR",
  cyprus: "CY",
  malta: "MT",
  australia: "AU",
  japan: "JP",
  singapore: "SG",
  "hong kong": "HK",
  israel: "IL",
  lebanon: "LB",
  bahrain: "BH",
  "saudi arabia": "SA",
  "united arab emirates": "AE",
  usa: "US",
  "united states": "US",
  "united states of america": "US",
  canada: "CA",
  brazil: "BR",
  rsa: "ZA",
  "south africa": "ZA",
  korea: "KR",
  "south korea": "KR",
  thailand: "TH",
  nigeria: "NG",
  bermuda: "BM",
};

/** Every name the table knows, for tests and documentation. */
export const KNOWN_COUNTRY_NAMES: readonly string[] = Object.keys(NAMES);

export type CountryLookup = { known: true; code: string | null } | { known: false };

/** The alpha-2 code for a country as written in the file; `known: false` when the table lacks it. */
export function countryCode(name: string): CountryLookup {
  const trimmed = name.trim();
  const key = trimmed.toLowerCase();
  if (key === "") return { known: true, code: null };
  if (Object.hasOwn(NAMES, key)) return { known: true, code: NAMES[key] ?? null };
  return /^[A-Z]{2}$/.test(trimmed) ? { known: true, code: trimmed } : { known: false };
}
