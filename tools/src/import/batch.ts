/**
 * Splits the items of an import into requests that stay under the gateway's body limit and the
 * mutation's list cap, keeping their order.
 */

/** The gateway refuses bodies over 128 KiB; the rest is headroom for the query and envelope. */
export const MAX_REQUEST_BYTES = 120 * 1024;

/** Per-call caps of the import mutations. */
export const CAPS = { products: 500, customers: 1000, orders: 500, returns: 500 } as const;

export interface Batches<T> {
  batches: T[][];
  /** Items that alone make a request over the limit: they cannot be sent. */
  oversized: T[];
}

/**
 * Greedy, in order: an item joins the current batch unless that would pass `maxItems` or make
 * the request (`baseBytes` for everything but the list, plus each item's JSON and a comma)
 * larger than `maxBytes`. Sizes are UTF-8 bytes, as sent.
 */
export function batchBySize<T>(
  items: Iterable<T>,
  {
    maxItems,
    maxBytes = MAX_REQUEST_BYTES,
    baseBytes,
  }: { maxItems: number; maxBytes?: number; baseBytes: number },
): Batches<T> {
  const batches: T[][] = [];
  const oversized: T[] = [];
  let current: T[] = [];
  let bytes = baseBytes;
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item)) + 1;
    if (baseBytes + size > maxBytes) {
      oversized.push(item);
      continue;
    }
    if (current.length > 0 && (current.length >= maxItems || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = baseBytes;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return { batches, oversized };
}
