import { isCountryCode, userError } from "@nexus/core";
import { appendManyToOutbox } from "@nexus/events";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import type { UserError } from "../user-error.ts";
import { type PublishDeps, publishCommitted, toUserSnapshot } from "./user.events.ts";
import { toUserModel, type UserModel } from "./user.model.ts";
import { findUsersByExternalIds, insertImportedCustomers } from "./user.repository.ts";

export const MAX_IMPORTED_CUSTOMERS = 1000;
const MAX_EXTERNAL_ID = 64;
/** Every control character, tab and line breaks included: an id is one line of text. */
const CONTROL = /\p{Cc}/u;

export interface ImportCustomersInput {
  customers: readonly { externalId: string; countryCode?: string | null }[];
}

export interface ImportedCustomerResult {
  externalId: string;
  user: UserModel;
  created: boolean;
}

export type ImportCustomersResult =
  | { customers: ImportedCustomerResult[]; userErrors: [] }
  | { customers: []; userErrors: UserError[] };

interface ValidCustomer {
  externalId: string;
  countryCode: string | null;
}

/** Every rule of every input at once, so one answer lists all that is wrong with a batch. */
function validate(input: ImportCustomersInput): { customers: ValidCustomer[]; errors: UserError[] } {
  const errors: UserError[] = [];
  if (input.customers.length > MAX_IMPORTED_CUSTOMERS) {
    errors.push(
      userError("TOO_MANY_CUSTOMERS", `At most ${MAX_IMPORTED_CUSTOMERS} customers per call.`, [
        "input",
        "customers",
      ]),
    );
    return { customers: [], errors };
  }
  const seen = new Set<string>();
  const customers = input.customers.map((customer, index) => {
    const path = ["input", "customers", String(index)];
    const externalId = customer.externalId.trim();
    if (externalId.length === 0 || externalId.length > MAX_EXTERNAL_ID || CONTROL.test(externalId)) {
      errors.push(
        userError(
          "INVALID_EXTERNAL_ID",
          `externalId must be 1 to ${MAX_EXTERNAL_ID} characters without control characters.`,
          [...path, "externalId"],
        ),
      );
    } else if (seen.has(externalId)) {
      errors.push(
        userError("DUPLICATE_EXTERNAL_ID", `externalId ${externalId} is given more than once.`, [
          ...path,
          "externalId",
        ]),
      );
    }
    seen.add(externalId);
    const countryCode = customer.countryCode?.trim().toUpperCase() || null;
    if (countryCode !== null && !isCountryCode(countryCode)) {
      errors.push(
        userError("INVALID_COUNTRY", "countryCode must be an ISO 3166-1 alpha-2 code such as GB.", [
          ...path,
          "countryCode",
        ]),
      );
    }
    return { externalId, countryCode };
  });
  return { customers, errors };
}

/**
 * `importCustomers`: validates every input, inserts the new external ids in one statement
 * (`ON CONFLICT (external_id) DO NOTHING`, so concurrent imports of one customer make one
 * account) with a UserRegistered event for each account it made, in one transaction, then
 * reads every account of the batch in one select. The answer lists every input in order.
 */
export async function importCustomers(
  deps: PublishDeps & { db: Kysely<Database> },
  input: ImportCustomersInput,
): Promise<ImportCustomersResult> {
  const { db } = deps;
  const { customers, errors } = validate(input);
  if (errors.length > 0) return { customers: [], userErrors: errors };
  const created = await db.transaction().execute(async (trx) => {
    const rows = await insertImportedCustomers(
      trx,
      customers.map((customer) => ({ ...customer, name: `Customer ${customer.externalId}` })),
    );
    await appendManyToOutbox(
      trx,
      rows.map((row) => ({
        type: "UserRegistered" as const,
        aggregateId: row.id,
        payload: { user: toUserSnapshot(toUserModel(row)) },
      })),
    );
    return rows;
  });
  if (created.length > 0) publishCommitted(deps);
  const createdIds = new Set(created.map((row) => row.id));
  const rows = await findUsersByExternalIds(
    db,
    customers.map((customer) => customer.externalId),
  );
  const byExternalId = new Map(rows.map((row) => [row.external_id, toUserModel(row)]));
  return {
    customers: customers.map(({ externalId }) => {
      const user = byExternalId.get(externalId);
      if (!user) throw new Error(`Customer ${externalId} was neither found nor created.`);
      return { externalId, user, created: createdIds.has(user.id) };
    }),
    userErrors: [],
  };
}
