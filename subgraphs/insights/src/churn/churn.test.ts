import { randomUUID } from "node:crypto";
import type { Role } from "@nexus/core";
import { globalId, until } from "@nexus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findCustomerFeatures, refreshFactStatistics } from "../customers/customer-features.repository.ts";
import { insertRefunds, insertSales, syntheticHistory, uuid } from "../customers/sales-history.fixture.ts";
import { createTestEnv, type TestEnv } from "../test-env.ts";
import { type ChurnFitInput, fitChurn, fitInputOf } from "./churn-fit.model.ts";
import { runChurnFit } from "./churn-fit.runner.ts";
import { trainChurnModel } from "./churn-training.service.ts";
import { startChurnTraining } from "./churn-training.sweeper.ts";

/**
 * The churn model end to end on a synthetic store history (seeded, so the same on every run):
 * training in the worker thread, the stored model and scores, and the GraphQL fields over them.
 * CHURN_TEST_CUSTOMERS sets the history's size (default 1,500) to measure larger runs.
 */
const CUSTOMERS = Number(process.env.CHURN_TEST_CUSTOMERS ?? 1500);
const END = new Date("2026-01-01T00:00:00Z");
const HORIZON = 90;
const DAY_MS = 86_400_000;

let env: TestEnv;
let admin: string;
let newest: Date;

beforeAll(async () => {
  env = await createTestEnv("insights_churn");
  admin = await env.auth.bearer(uuid(9999), "ADMIN");
  const history = syntheticHistory({ customers: CUSTOMERS, days: 730, end: END, seed: 13 });
  await insertSales(env.pg.db, history.sales);
  await insertRefunds(env.pg.db, history.refunds);
  await refreshFactStatistics(env.pg.db);
  newest = history.newest;
}, 120_000);

afterAll(async () => {
  await env?.close();
});

async function run(query: string, variables: Record<string, unknown> = {}, role: Role | null = "ADMIN") {
  const authorization =
    role === null ? undefined : role === "ADMIN" ? admin : await env.auth.bearer(randomUUID(), role);
  return env.run(query, variables, authorization);
}

const deps = () => ({ db: env.pg.db, currencyCode: "USD", logger: env.logger, fit: runChurnFit });

/** Counts timer ticks while `work` runs, and the longest wait between two of them. */
async function ticking<T>(
  work: () => Promise<T> | T,
): Promise<{ result: T; ticks: number; longestGapMs: number; elapsedMs: number }> {
  const started = performance.now();
  let ticks = 0;
  let last = performance.now();
  let longestGapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longestGapMs = Math.max(longestGapMs, now - last);
    last = now;
    ticks++;
  }, 5);
  try {
    const result = await work();
    longestGapMs = Math.max(longestGapMs, performance.now() - last);
    return { result, ticks, longestGapMs, elapsedMs: performance.now() - started };
  } finally {
    clearInterval(timer);
  }
}

async function fitInput(asOf: Date): Promise<ChurnFitInput> {
  const load = async (at: Date, labelEnd?: Date) =>
    findCustomerFeatures(env.pg.db, {
      asOf: at,
      currencyCode: "USD",
      ...(labelEnd ? { labelEnd } : {}),
      limit: 100_000,
    });
  const before = (days: number) => new Date(asOf.getTime() - days * DAY_MS);
  return fitInputOf(
    await load(before(2 * HORIZON), before(HORIZON)),
    await load(before(HORIZON), asOf),
    await load(asOf),
  );
}

const MODEL = `{ churnModel { version asOf horizonDays trainingSize holdoutSize positives holdoutPositives
  auc recencyAuc brier calibration { lower upper count meanPredicted observedRate }
  intercept coefficients { feature name weight } library trainingMs scoredCustomers } }`;

describe("before the first training", () => {
  it("has no model, no customer insights and no User.insights", async () => {
    const result = await run(
      `query ($reps: [_Any!]!) {
      churnModel { version }
      customerInsights { totalCount edges { cursor } pageInfo { hasNextPage endCursor } }
      _entities(representations: $reps) { ... on User { id insights { segment } } }
    }`,
      { reps: [{ __typename: "User", id: uuid(1_000_000) }] },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      churnModel: null,
      customerInsights: { totalCount: 0, edges: [], pageInfo: { hasNextPage: false, endCursor: null } },
      _entities: [{ id: uuid(1_000_000), insights: null }],
    });
  });
});

describe("training", () => {
  it("fits in a worker thread: the event loop keeps ticking, unlike a fit on the main thread", async () => {
    // runChurnFit transfers the input's arrays to the worker, so each run gets its own.
    const input = await fitInput(newest);
    const sizes = `${input.training.labels.length} + ${input.holdout.labels.length} examples and ${input.current.recencyDays.length} scores`;
    const again = await fitInput(newest);
    const inWorker = await ticking(() => runChurnFit(input));
    const onMainThread = await ticking(() => fitChurn(again));
    expect(inWorker.result.scores.probabilities).toHaveLength(CUSTOMERS);
    expect(inWorker.result.auc).toBeCloseTo(onMainThread.result.auc, 10);
    // The main-thread fit holds the loop for its whole duration; the worker's does not.
    expect(onMainThread.ticks).toBe(0);
    expect(inWorker.ticks).toBeGreaterThan(2);
    console.info(
      `fit of ${sizes}: ${Math.round(onMainThread.longestGapMs)} ms on the main thread, ` +
        `${Math.round(inWorker.elapsedMs)} ms in the worker (starting it included), longest event-loop wait ` +
        `${Math.round(inWorker.longestGapMs)} ms`,
    );
  }, 120_000);

  it("rejects with the worker's error when a fit fails", async () => {
    await expect(runChurnFit(fitInputOf([], [], []))).rejects.toThrow(/at least one row/);
  });

  it("beats days-since-last-order alone on the later holdout, stores the model and every score", async () => {
    const started = performance.now();
    const { model, userErrors } = await trainChurnModel(deps(), { asOf: null, horizonDays: HORIZON });
    const elapsed = performance.now() - started;
    expect(userErrors).toEqual([]);
    if (!model) throw new Error("no model");
    console.info(
      `churn on ${CUSTOMERS} synthetic customers: AUC ${model.auc.toFixed(3)} (recency alone ` +
        `${model.recencyAuc.toFixed(3)}), Brier ${model.brier.toFixed(4)}, ${model.trainingSize} training and ` +
        `${model.holdoutSize} holdout examples, ${model.scoredCustomers} scored, ${Math.round(elapsed)} ms`,
    );
    expect(model.asOf).toEqual(newest);
    expect(model.auc).toBeGreaterThan(0.6);
    expect(model.auc).toBeGreaterThan(model.recencyAuc);
    // Better than always predicting the holdout's churn rate.
    const rate = model.holdoutPositives / model.holdoutSize;
    expect(model.brier).toBeLessThan(rate * (1 - rate));
    expect(model.calibration.reduce((sum, bin) => sum + bin.count, 0)).toBe(model.holdoutSize);
    expect(model.library).toBe("irls-ridge@1");
    const stored = await env.pg.db
      .selectFrom("customer_scores")
      .select((eb) => eb.fn.countAll<string>().as("count"))
      .where("model_version", "=", model.version)
      .executeTakeFirstOrThrow();
    expect(Number(stored.count)).toBe(model.scoredCustomers);

    const result = await run(MODEL);
    expect(result.errors).toBeUndefined();
    expect(result.data).toMatchObject({
      churnModel: { version: model.version, horizonDays: HORIZON, auc: model.auc, library: "irls-ridge@1" },
    });
  }, 120_000);
});

describe("customerInsights", () => {
  const PAGE = `query ($first: Int, $after: String, $segment: CustomerSegment, $min: Float, $orderBy: CustomerInsightOrder) {
    customerInsights(first: $first, after: $after, segment: $segment, minChurnProbability: $min, orderBy: $orderBy) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node { customer { id } valueAtRisk { amount currencyCode }
        insights { segment churnRisk { probability band drivers modelVersion }
          rfm { recencyDays frequency monetary { amount currencyCode } recencyScore frequencyScore monetaryScore score } } } }
    }
  }`;
  type Page = {
    customerInsights: {
      totalCount: number;
      pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
      edges: {
        node: {
          customer: { id: string };
          valueAtRisk: { amount: number };
          insights: { segment: string; churnRisk: { probability: number; band: string; drivers: string[] } };
        };
      }[];
    };
  };
  const page = async (variables: Record<string, unknown>) => {
    const result = await run(PAGE, variables);
    expect(result.errors).toBeUndefined();
    return (result.data as Page).customerInsights;
  };

  it("puts the revenue at stake first and pages through it without gaps", async () => {
    const first = await page({ first: 25 });
    const second = await page({ first: 25, after: first.pageInfo.endCursor });
    const both = await page({ first: 50 });
    expect([...first.edges, ...second.edges].map((e) => e.node.customer.id)).toEqual(
      both.edges.map((e) => e.node.customer.id),
    );
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(second.pageInfo.hasPreviousPage).toBe(true);
    const values = both.edges.map((e) => e.node.valueAtRisk.amount);
    expect(values).toEqual([...values].sort((a, b) => b - a));
    const top = both.edges[0]?.node.insights.churnRisk;
    expect(top?.drivers.length).toBeGreaterThan(0);
    expect(top?.drivers.length).toBeLessThanOrEqual(3);
  });

  it("orders by probability on request, and filters by segment and least probability", async () => {
    const byProbability = await page({ first: 30, orderBy: "CHURN_PROBABILITY" });
    const probabilities = byProbability.edges.map((e) => e.node.insights.churnRisk.probability);
    expect(probabilities).toEqual([...probabilities].sort((a, b) => b - a));
    const next = await page({
      first: 30,
      orderBy: "CHURN_PROBABILITY",
      after: byProbability.pageInfo.endCursor,
    });
    expect(next.edges[0]?.node.insights.churnRisk.probability).toBeLessThanOrEqual(probabilities.at(-1) ?? 1);

    const all = await page({ first: 1 });
    const likely = await page({ first: 100, min: 0.6 });
    expect(likely.totalCount).toBeLessThan(all.totalCount);
    expect(likely.edges.every((e) => e.node.insights.churnRisk.band === "HIGH")).toBe(true);
    const lost = await page({ first: 100, segment: "LOST" });
    expect(lost.totalCount).toBeGreaterThan(0);
    expect(lost.edges.every((e) => e.node.insights.segment === "LOST")).toBe(true);
  });

  it.each([
    [{ min: 1.5 }, "minChurnProbability"],
    [{ min: -0.1 }, "minChurnProbability"],
    [{ first: 0 }, "first"],
    [{ after: "bm90IGEgY3Vyc29y" }, "after"],
  ])("refuses %j with BAD_USER_INPUT", async (variables, field) => {
    const result = await run(PAGE, variables);
    expect(result.errors).toEqual([
      expect.objectContaining({ extensions: { code: "BAD_USER_INPUT", field } }),
    ]);
  });

  it("refuses a cursor of the other ordering", async () => {
    const byValue = await page({ first: 1 });
    const result = await run(PAGE, {
      first: 1,
      after: byValue.pageInfo.endCursor,
      orderBy: "CHURN_PROBABILITY",
    });
    expect(result.errors).toEqual([
      expect.objectContaining({ extensions: { code: "BAD_USER_INPUT", field: "after" } }),
    ]);
  });
});

describe("User.insights through _entities", () => {
  const ENTITIES = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id
    insights { asOf segment rfm { recencyDays frequency monetary { amount currencyCode } score }
      churnRisk { probability band drivers modelVersion } } } } }`;

  it("serves each user's scores from the newest model in one query for all of them", async () => {
    const scored = await env.pg.db
      .selectFrom("customer_scores")
      .selectAll()
      .orderBy("model_version", "desc")
      .orderBy("customer_id")
      .limit(2)
      .execute();
    const ids = [...scored.map((row) => row.customer_id), uuid(424242), "not-a-uuid"];
    env.pg.queries.length = 0;
    const result = await run(ENTITIES, { reps: ids.map((id) => ({ __typename: "User", id })) });
    expect(result.errors).toBeUndefined();
    const entities = (result.data as { _entities: { id: string; insights: unknown }[] })._entities;
    expect(entities.map((entity) => entity.id)).toEqual(ids);
    const [first] = scored;
    expect(entities[0]?.insights).toMatchObject({
      segment: first?.segment,
      rfm: {
        recencyDays: first?.recency_days,
        frequency: first?.frequency,
        monetary: { amount: Number(first?.monetary), currencyCode: "USD" },
        score: (first?.recency_score ?? 0) + (first?.frequency_score ?? 0) + (first?.monetary_score ?? 0),
      },
      churnRisk: { probability: first?.probability, band: first?.band, modelVersion: first?.model_version },
    });
    expect(entities[2]?.insights).toBeNull();
    expect(entities[3]?.insights).toBeNull();
    expect(env.pg.queries.filter((q) => q.includes("customer_scores"))).toHaveLength(1);
  });

  it("is for staff: customers are refused FORBIDDEN, anonymous callers UNAUTHENTICATED", async () => {
    const reps = [{ __typename: "User", id: uuid(1_000_000) }];
    const customer = await run(ENTITIES, { reps }, "CUSTOMER");
    expect(customer.errors).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: "FORBIDDEN" }) }),
    ]);
    const anonymous = await run(ENTITIES, { reps }, null);
    expect(anonymous.errors).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: "UNAUTHENTICATED" }) }),
    ]);
  });
});

describe("access", () => {
  it.each([
    ["churnModel", MODEL],
    ["customerInsights", "{ customerInsights { totalCount } }"],
    ["trainChurnModel", "mutation { trainChurnModel(input: {}) { userErrors { code } } }"],
  ])(
    "%s refuses customers and partners (FORBIDDEN) and anonymous callers (UNAUTHENTICATED)",
    async (_name, query) => {
      for (const role of ["CUSTOMER", "PARTNER"] as const) {
        const result = await run(query, {}, role);
        expect(result.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
      }
      expect((await run(query, {}, null)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    },
  );
});

describe("trainChurnModel", () => {
  const TRAIN = `mutation ($input: TrainChurnModelInput!) { trainChurnModel(input: $input) {
    run { id status asOf horizonDays requestedAt } userErrors { field message code } } }`;
  type Payload = {
    trainChurnModel: {
      run: { id: string; status: string; asOf: string | null; horizonDays: number } | null;
      userErrors: { field: string[] | null; code: string; message: string }[];
    };
  };
  const train = async (input: Record<string, unknown>) => {
    const result = await run(TRAIN, { input });
    expect(result.errors).toBeUndefined();
    return (result.data as Payload).trainChurnModel;
  };

  it.each([
    [{ horizonDays: 6 }, "HORIZON_OUT_OF_RANGE", ["input", "horizonDays"]],
    [{ horizonDays: 366 }, "HORIZON_OUT_OF_RANGE", ["input", "horizonDays"]],
    [{ asOf: new Date(Date.now() + 3_600_000).toISOString() }, "AS_OF_IN_FUTURE", ["input", "asOf"]],
    // Two months into the history: too few customers have a past and a future yet.
    [{ asOf: new Date(END.getTime() - 670 * DAY_MS).toISOString() }, "NOT_ENOUGH_DATA", null],
  ])("refuses %j with %s and queues nothing", async (input, code, field) => {
    const payload = await train(input);
    expect(payload).toMatchObject({ run: null, userErrors: [{ code, field }] });
    expect(await env.churnTraining.pending()).toBeNull();
  });

  it("queues one training at a time; the model appears when it is done", async () => {
    const before = await env.pg.db
      .selectFrom("churn_models")
      .select((eb) => eb.fn.max("version").as("version"))
      .executeTakeFirst();
    const asOf = new Date(newest.getTime() - 10 * DAY_MS);
    const queued = await train({ asOf: asOf.toISOString(), horizonDays: 60 });
    expect(queued.userErrors).toEqual([]);
    // The worker may have taken it already.
    expect(queued.run).toMatchObject({ asOf: asOf.toISOString(), horizonDays: 60 });
    expect(["QUEUED", "RUNNING"]).toContain(queued.run?.status);
    const again = await train({ horizonDays: 30 });
    expect(again.userErrors.map((e) => e.code)).toEqual(["TRAINING_IN_PROGRESS"]);
    expect(again.run?.id).toBe(queued.run?.id);
    const model = await until(
      "the queued training to store its model",
      async () => {
        const result = await run(MODEL);
        const current = (
          result.data as { churnModel: { version: number; horizonDays: number; asOf: string } | null }
        ).churnModel;
        return current !== null && current.version > (before?.version ?? 0) ? current : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(model).toMatchObject({ horizonDays: 60, asOf: asOf.toISOString() });
    await until("the training job to complete", async () => (await env.churnTraining.pending()) === null);
  }, 90_000);
});

describe("the training queue", () => {
  it("runs one training at a time across replicas, and queues one of two racing requests", async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    const prefix = `${env.prefix}-flight`;
    const replica = () =>
      startChurnTraining({
        redis: env.redis,
        prefix,
        logger: env.logger,
        cron: null,
        horizonDays: 90,
        train: async (request) => {
          running++;
          most = Math.max(most, running);
          await new Promise((resolve) => setTimeout(resolve, 40));
          running--;
          done.push(request.horizonDays);
        },
      });
    const replicas = [await replica(), await replica()];
    const { Queue } = await import("bullmq");
    const queue = new Queue("insights-churn-training", { connection: env.redis, prefix });
    try {
      // Six trainings waiting at once (as scheduled runs of several replicas could be).
      for (const horizonDays of [10, 11, 12, 13, 14, 15]) {
        await queue.add("train", { asOf: null, horizonDays, requestedAt: "" }, { removeOnComplete: true });
      }
      await until("six trainings", () => done.length === 6, { timeoutMs: 30_000 });
      expect(most).toBe(1);
      expect([...done].sort()).toEqual([10, 11, 12, 13, 14, 15]);

      const [first, second] = replicas;
      if (!first || !second) throw new Error("no replicas");
      const racing = await Promise.all([
        first.enqueue({ asOf: null, horizonDays: 20 }),
        second.enqueue({ asOf: null, horizonDays: 21 }),
      ]);
      expect(racing.map((result) => result.created).sort()).toEqual([false, true]);
      expect(racing[0].run.id).toBe(racing[1].run.id);
      await until("the racing requests' training", () => done.length === 7, { timeoutMs: 30_000 });
      expect(await first.pending()).toBeNull();
      // Its id is free again once it is done.
      expect((await second.enqueue({ asOf: null, horizonDays: 22 })).created).toBe(true);
      await until("the next training", () => done.length === 8, { timeoutMs: 30_000 });
      expect(done.slice(6).sort()).toHaveLength(2);
      expect(most).toBe(1);
    } finally {
      await queue.close();
      for (const training of replicas) await training.stop();
    }
  }, 60_000);

  it("schedules the repeatable training from a cron pattern, and removes it when switched off", async () => {
    const requests: unknown[] = [];
    const options = {
      redis: env.redis,
      prefix: `${env.prefix}-schedule`,
      logger: env.logger,
      horizonDays: 45,
      train: async (request: unknown) => {
        requests.push(request);
      },
    };
    // Every second (cron with seconds), so the test sees a scheduled run.
    const scheduled = await startChurnTraining({ ...options, cron: "* * * * * *" });
    const { Queue } = await import("bullmq");
    const queue = new Queue("insights-churn-training", { connection: env.redis, prefix: options.prefix });
    try {
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers).toEqual([expect.objectContaining({ pattern: "* * * * * *", tz: "UTC" })]);
      await until("a scheduled training", () => requests.length > 0, { timeoutMs: 10_000 });
      // The newest sale when it runs, and the configured horizon.
      expect(requests[0]).toEqual({ asOf: null, horizonDays: 45 });
      await scheduled.stop();
      const off = await startChurnTraining({ ...options, cron: null });
      await off.stop();
      expect(await queue.getJobSchedulers()).toEqual([]);
    } finally {
      await queue.close();
    }
  });
});

describe("global ids at insights' edge", () => {
  it("resolves references that carry global ids and answers with them", async () => {
    const user = globalId("User", randomUUID());
    const order = globalId("Order", randomUUID());
    const result = await env.runGlobal(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id } ... on Order { id } } }`,
      {
        reps: [
          { __typename: "User", id: user },
          { __typename: "Order", id: order },
        ],
      },
    );
    expect(result.data).toEqual({ _entities: [{ id: user }, { id: order }] });
  });
});
