import { type Logger, type SubgraphSecrets, subgraphAuthHeaders } from "@nexus/core";

/** What the gateway counts of a partner's persisted operation, per UTC day. */
interface Entry {
  client: string;
  operationId: string;
  day: string;
  requests: number;
  errors: number;
  lastUsedAt: Date;
}

export interface PartnerUsageReporter {
  /** Counts one run of a registered operation; `failed` when the response carried errors. Never waits. */
  record(client: string, operationId: string, failed: boolean): void;
  /** Sends what was counted since the last report; what the users subgraph does not take is kept for the next. */
  flush(): Promise<void>;
  /** Stops the timer and sends what is left. */
  stop(): Promise<void>;
}

/**
 * Counts each partner's persisted operations (requests, responses with errors, last use) per
 * client, operation and UTC day in memory, and sends the counts to the users subgraph every
 * `flushMs` (`POST /partner-usage`, signed like a subgraph fetch), which adds them up in
 * PostgreSQL for `partnerManifest`. The gateway serves no fields itself, so the counts have to
 * reach a subgraph; counting in memory keeps the request path free of any I/O for it.
 *
 * A report the users subgraph does not take (down, slow, refusing) is kept and merged into the
 * next, up to `maxEntries` distinct counts; past that, new counts are dropped and logged. A
 * replica that crashes loses at most its last interval's counts: usage is an indication for
 * partners, not billing.
 */
export function createPartnerUsageReporter(options: {
  url: string;
  secrets: SubgraphSecrets;
  flushMs: number;
  logger: Logger;
  timeoutMs?: number;
  maxEntries?: number;
  now?: () => Date;
}): PartnerUsageReporter {
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? (() => new Date());
  let pending = new Map<string, Entry>();
  let dropped = 0;
  let inFlight: Promise<void> | null = null;

  const add = (entry: Entry): void => {
    const key = `${entry.client}\n${entry.operationId}\n${entry.day}`;
    const current = pending.get(key);
    if (current) {
      current.requests += entry.requests;
      current.errors += entry.errors;
      if (entry.lastUsedAt > current.lastUsedAt) current.lastUsedAt = entry.lastUsedAt;
    } else if (pending.size < maxEntries) {
      pending.set(key, { ...entry });
    } else {
      dropped += entry.requests;
    }
  };

  const send = async (): Promise<void> => {
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    const body = JSON.stringify({
      entries: [...batch.values()].map((entry) => ({ ...entry, lastUsedAt: entry.lastUsedAt.toISOString() })),
    });
    try {
      const response = await fetch(options.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...subgraphAuthHeaders(options.secrets, body) },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`);
    } catch (error) {
      for (const entry of batch.values()) add(entry);
      options.logger.warn("partner usage report not taken; kept for the next", {
        error,
        entries: batch.size,
      });
    }
    if (dropped > 0) {
      options.logger.warn("partner usage counts dropped: too many kept while reports failed", {
        requests: dropped,
      });
      dropped = 0;
    }
  };

  const flush = (): Promise<void> => {
    // One report at a time: a slow users subgraph never has two reports of one count.
    inFlight ??= send().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };

  const timer = setInterval(() => void flush(), options.flushMs);
  timer.unref();

  return {
    record(client, operationId, failed) {
      const at = now();
      add({
        client,
        operationId,
        day: at.toISOString().slice(0, 10),
        requests: 1,
        errors: failed ? 1 : 0,
        lastUsedAt: at,
      });
    },
    async flush() {
      await inFlight;
      await flush();
    },
    async stop() {
      clearInterval(timer);
      await inFlight;
      await flush();
    },
  };
}
