import type { CatalogDb } from "../db/collections.ts";

/** Notes that an event was applied, once per event id, for operators; applying is idempotent anyway. */
export async function recordProcessedEvent(db: CatalogDb, eventId: string, type: string): Promise<void> {
  await db.processedEvents.updateOne(
    { _id: eventId },
    { $setOnInsert: { type, processedAt: new Date() } },
    { upsert: true },
  );
}
