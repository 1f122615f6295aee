import type { Logger } from "@nexus/core";
import type { Redis } from "ioredis";
import { toCategoryModel } from "../category/category.model.ts";
import { findAllCategories } from "../category/category.repository.ts";
import type { CatalogDb, ProductDocument } from "../db/collections.ts";
import {
  type FeedKey,
  findActiveProductPage,
  findProductsByIds,
  findProductsUpdatedSince,
} from "../product/product.repository.ts";
import { countPurchasesByProduct } from "../review/review.repository.ts";
import { categoriesById, type SearchDocumentContext, toSearchDocument } from "./search-documents.ts";
import type { SearchEngine } from "./search-engine.ts";

/**
 * What a write path tells search: these products changed (in any way the index holds: fields,
 * status, price, rating, stock). Every replica, the writer's too, re-reads them from MongoDB.
 */
export interface SearchChanges {
  publish(productIds: readonly string[]): Promise<void>;
}

/**
 * The search index of one catalog replica. It is built from MongoDB at start and swapped in
 * only when complete: until then `engine()` is null and callers use the MongoDB path. It follows
 * changes through a Redis channel (`<prefix>:catalog:search`) and heals missed messages with a
 * catch-up pass over `updatedAt`.
 */
export interface SearchIndex extends SearchChanges {
  /** The index being served, or null before the first build completed. */
  engine(): SearchEngine | null;
  /** Resolves once the first build is in (or failed and was logged). */
  ready(): Promise<void>;
  /** Rebuilds here beside the served index and swaps; asks every other replica to do the same. */
  reindex(): Promise<{ indexed: number; tookMs: number }>;
  /** Unsubscribes and stops the timer; the served index stays readable. */
  stop(): Promise<void>;
}

export interface SearchIndexOptions {
  db: CatalogDb;
  /** A connection for publishing; the index opens its own duplicate to subscribe. */
  redis: Redis;
  /** Key prefix of the deployment (EVENTS_PREFIX); the channel is `<prefix>:catalog:search`. */
  prefix: string;
  logger: Logger;
  createEngine: () => SearchEngine;
  /** How often the catch-up pass runs (SEARCH_CATCH_UP_MS); 0 switches it off. */
  catchUpMs: number;
  /** Products read per page while building. */
  pageSize?: number;
  /** The first build starts once this settles (tests hold it to see requests served before it). */
  firstBuildAfter?: Promise<unknown>;
}

/** Messages on the channel. */
type Message = { ids: string[]; from: string } | { reindex: true; from: string };

/** How far back each catch-up pass looks past the newest change it saw, for clocks and slow commits. */
const CATCH_UP_OVERLAP_MS = 2_000;
const CATCH_UP_PAGE = 500;

const isMessage = (value: unknown): value is Message => {
  if (typeof value !== "object" || value === null) return false;
  if (!("from" in value) || typeof value.from !== "string") return false;
  if ("ids" in value) return Array.isArray(value.ids) && value.ids.every((id) => typeof id === "string");
  return "reindex" in value && value.reindex === true;
};

const HEX24 = /^[0-9a-f]{24}$/;

export function createSearchIndex(options: SearchIndexOptions): SearchIndex {
  const { db, redis, logger } = options;
  const channel = `${options.prefix}:catalog:search`;
  const pageSize = options.pageSize ?? 500;
  const replicaId = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  let served: SearchEngine | null = null;
  /** The build in progress, with the ids changed while it runs (replayed into it before the swap). */
  let building: { engine: SearchEngine; changed: Set<string> } | null = null;
  let rebuild: Promise<{ indexed: number; tookMs: number }> | null = null;
  let stopped = false;
  /** The newest `updatedAt` applied; the catch-up pass reads from a little before it. */
  let lastSeen = new Date(0);
  let timer: NodeJS.Timeout | undefined;
  let catchingUp: Promise<void> | null = null;

  const subscriber = redis.duplicate();

  /**
   * Refreshes run one at a time, each reading MongoDB when its turn comes, so an older read never
   * lands after a newer one.
   */
  let queue: Promise<void> = Promise.resolve();
  const inTurn = (work: () => Promise<void>): Promise<void> => {
    const next = queue.then(work);
    queue = next.catch(() => undefined);
    return next;
  };

  async function documentContext(ids?: readonly string[]): Promise<SearchDocumentContext> {
    const [tree, unitsSold] = await Promise.all([findAllCategories(db), countPurchasesByProduct(db, ids)]);
    return { categories: categoriesById(tree.map(toCategoryModel)), unitsSold };
  }

  const seen = (docs: readonly ProductDocument[]) => {
    for (const doc of docs) if (doc.updatedAt > lastSeen) lastSeen = doc.updatedAt;
  };

  /** Puts what MongoDB holds for `ids` into an engine: ACTIVE products in, anything else out. */
  function apply(
    engine: SearchEngine,
    ids: readonly string[],
    docs: readonly ProductDocument[],
    context: SearchDocumentContext,
  ) {
    const active = docs.filter((d) => d.status === "ACTIVE");
    const activeIds = new Set(active.map((d) => d._id.toHexString()));
    const gone = ids.filter((id) => !activeIds.has(id));
    if (gone.length > 0) engine.remove(gone);
    if (active.length > 0) engine.upsert(active.map((d) => toSearchDocument(d, context)));
  }

  /** Applies products read from MongoDB to the served index and notes them for a build in progress. */
  async function applyDocs(ids: readonly string[], docs: readonly ProductDocument[]) {
    if (ids.length === 0) return;
    const context = await documentContext(ids);
    if (served) apply(served, ids, docs, context);
    if (building) for (const id of ids) building.changed.add(id);
    seen(docs);
  }

  async function refresh(rawIds: readonly string[]) {
    const ids = [...new Set(rawIds.map((id) => id.toLowerCase()).filter((id) => HEX24.test(id)))];
    if (ids.length === 0) return;
    await applyDocs(ids, await findProductsByIds(db, ids));
  }

  async function build(): Promise<{ indexed: number; tookMs: number }> {
    const started = performance.now();
    const startedAt = new Date();
    const engine = options.createEngine();
    building = { engine, changed: new Set() };
    try {
      const context = await documentContext();
      let after: string | null = null;
      for (;;) {
        const page = await findActiveProductPage(db, after, pageSize);
        if (page.length === 0) break;
        engine.upsert(page.map((d) => toSearchDocument(d, context)));
        seen(page);
        after = page.at(-1)?._id.toHexString() ?? null;
        if (page.length < pageSize) break;
      }
      // Changes announced while the build read: read them again into the new index, until none are left.
      while (building.changed.size > 0) {
        const ids = [...building.changed];
        building.changed.clear();
        const docs = await findProductsByIds(db, ids);
        apply(engine, ids, docs, await documentContext(ids));
      }
      served = engine;
      // Writes that committed during the build without a message are found by the next catch-up.
      if (lastSeen > startedAt) lastSeen = startedAt;
      const tookMs = Math.round(performance.now() - started);
      logger.info("search index built", { indexed: engine.size(), tookMs });
      return { indexed: engine.size(), tookMs };
    } finally {
      building = null;
    }
  }

  function rebuildOnce(): Promise<{ indexed: number; tookMs: number }> {
    rebuild ??= build().finally(() => {
      rebuild = null;
    });
    return rebuild;
  }

  async function catchUp() {
    if (!served) return;
    let after: FeedKey | null = null;
    const since = new Date(lastSeen.getTime() - CATCH_UP_OVERLAP_MS);
    for (;;) {
      const page = await findProductsUpdatedSince(db, since, after, CATCH_UP_PAGE);
      if (page.length === 0) break;
      await applyDocs(
        page.map((d) => d._id.toHexString()),
        page,
      );
      const last = page.at(-1);
      if (!last || page.length < CATCH_UP_PAGE) break;
      after = { updatedAt: last.updatedAt, id: last._id.toHexString() };
    }
  }

  subscriber.on("message", (from: string, text: string) => {
    if (from !== channel || stopped) return;
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      message = null;
    }
    if (!isMessage(message)) {
      logger.warn("ignored a malformed search message", { channel });
      return;
    }
    // This replica applied its own changes before announcing them.
    if (message.from === replicaId) return;
    const ids = "ids" in message ? message.ids : null;
    const work = ids ? inTurn(() => refresh(ids)) : rebuildOnce();
    work?.catch((error: unknown) => logger.error("search index update failed", { error }));
  });

  const subscribed = subscriber.subscribe(channel);
  const first = Promise.all([subscribed, options.firstBuildAfter])
    .then(() => (stopped ? undefined : rebuildOnce()))
    .then(
      () => undefined,
      (error: unknown) => logger.error("search index build failed; search stays on MongoDB", { error }),
    );

  if (options.catchUpMs > 0) {
    timer = setInterval(() => {
      if (catchingUp || stopped) return;
      catchingUp = inTurn(catchUp)
        .catch((error: unknown) => logger.warn("search catch-up failed", { error }))
        .finally(() => {
          catchingUp = null;
        });
    }, options.catchUpMs);
    timer.unref();
  }

  return {
    engine: () => served,
    ready: () => first,
    async publish(productIds) {
      if (productIds.length === 0) return;
      const ids = [...new Set(productIds)];
      // Here first, so the writer reads its own write; then every other replica.
      await inTurn(() => refresh(ids)).catch((error: unknown) =>
        logger.warn("search index update failed; catch-up will retry", { error }),
      );
      try {
        await redis.publish(channel, JSON.stringify({ ids, from: replicaId } satisfies Message));
      } catch (error) {
        // The catch-up pass still finds the change by its `updatedAt`.
        logger.warn("could not announce a search change; catch-up will find it", { error });
      }
    },
    async reindex() {
      const result = await rebuildOnce();
      await redis.publish(channel, JSON.stringify({ reindex: true, from: replicaId } satisfies Message));
      return result;
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      // A build in progress finishes (it only reads); one not started yet never starts.
      await rebuild?.catch(() => undefined);
      await catchingUp;
      await subscriber.unsubscribe(channel).catch(() => undefined);
      subscriber.disconnect();
    },
  };
}
