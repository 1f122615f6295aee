/** An entry as this replica keeps it: the parsed data, ready to serve without parsing. */
export interface LocalEntry {
  data: Record<string, unknown>;
  maxAge: number;
  scope: "PUBLIC" | "PRIVATE";
  /** When it was stored in Redis (ms since the epoch); it expires at `storedAt + maxAge`. */
  storedAt: number;
  bytes: number;
  tags: readonly string[];
}

export interface LocalLayerHooks {
  /** An entry dropped to make room. */
  onEvict(): void;
  /** The bytes held changed. */
  onBytes(bytes: number): void;
}

/**
 * The in-process layer in front of Redis: at most `maxEntries` entries, least recently used
 * dropped first, with a tag index so a change notice removes exactly what holds the change.
 * `generation` moves on every invalidation: a write that read Redis before an invalidation
 * and arrives after it is refused (`set` with an older generation), so a replica never keeps
 * what a notice has already removed.
 */
export function createLocalLayer(maxEntries: number, hooks: LocalLayerHooks) {
  const entries = new Map<string, LocalEntry>();
  const byTag = new Map<string, Set<string>>();
  let bytes = 0;
  let generation = 0;

  const remove = (key: string): boolean => {
    const entry = entries.get(key);
    if (!entry) return false;
    entries.delete(key);
    bytes -= entry.bytes;
    for (const tag of entry.tags) {
      const keys = byTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) byTag.delete(tag);
    }
    return true;
  };

  return {
    generation: () => generation,
    get(key: string, now: number): LocalEntry | undefined {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.storedAt + entry.maxAge * 1000 <= now) {
        remove(key);
        hooks.onBytes(bytes);
        return undefined;
      }
      // Most recently used last: Map keeps insertion order.
      entries.delete(key);
      entries.set(key, entry);
      return entry;
    },
    /** Keeps `entry` unless an invalidation ran since `seenGeneration`; false when refused. */
    set(key: string, entry: LocalEntry, seenGeneration: number): boolean {
      if (maxEntries === 0 || seenGeneration !== generation) return false;
      remove(key);
      entries.set(key, entry);
      bytes += entry.bytes;
      for (const tag of entry.tags) {
        const keys = byTag.get(tag) ?? new Set<string>();
        keys.add(key);
        byTag.set(tag, keys);
      }
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        remove(oldest);
        hooks.onEvict();
      }
      hooks.onBytes(bytes);
      return true;
    },
    /** Removes every entry filed under one of `tags`; returns how many. */
    invalidate(tags: readonly string[]): number {
      generation += 1;
      let removed = 0;
      for (const tag of tags) {
        for (const key of [...(byTag.get(tag) ?? [])]) if (remove(key)) removed += 1;
      }
      hooks.onBytes(bytes);
      return removed;
    },
    /** Everything goes: Redis was unreachable, so notices may have been missed. */
    clear(): void {
      generation += 1;
      entries.clear();
      byTag.clear();
      bytes = 0;
      hooks.onBytes(bytes);
    },
    size: () => entries.size,
  };
}

export type LocalLayer = ReturnType<typeof createLocalLayer>;
