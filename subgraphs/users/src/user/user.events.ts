import type { Logger } from "@nexus/core";
import { appendToOutbox, type OutboxRelay, type UserSnapshot } from "@nexus/events";
import type { Transaction } from "kysely";
import type { Database } from "../db/database.ts";
import type { UserModel } from "./user.model.ts";

/** What a service that changes accounts needs to publish its events once they are committed. */
export interface PublishDeps {
  relay: Pick<OutboxRelay, "flush">;
  logger: Logger;
}

export const toUserSnapshot = (user: UserModel): UserSnapshot => ({
  id: user.id,
  email: user.email,
  name: user.name,
  role: user.role,
  emailVerified: user.emailVerified,
});

export type UserChange = "email" | "name" | "role" | "emailVerified";

/** Records that an account changed, in the transaction that changed it; nothing when nothing did. */
export async function appendUserChanged(
  trx: Transaction<Database>,
  user: UserModel,
  changed: readonly UserChange[],
): Promise<void> {
  if (changed.length === 0) return;
  await appendToOutbox(trx, "UserChanged", user.id, { user: toUserSnapshot(user), changed: [...changed] });
}

/**
 * Publishes what a committed change wrote to the outbox now rather than at the next poll. Not
 * awaited: the change is committed either way, and a failure leaves the rows to the poller.
 */
export function publishCommitted(deps: PublishDeps): void {
  deps.relay.flush().catch((error: unknown) => {
    deps.logger.warn("outbox flush after an account change failed; the poller will retry", { error });
  });
}
