/**
 * `GATEWAY_WORKERS`: the gateway on every core. One Node process serves GraphQL on one core, so
 * with more than one worker the process started by `node gateway/src/index.ts` becomes a small
 * supervisor (node:cluster's primary): it forks the workers, which share the listening port (the
 * primary hands connections out round-robin), replaces one that dies, and stops them all on
 * SIGTERM. Workers hold nothing another worker needs: limits, budgets, persisted queries and
 * partner keys live in Redis or are per-request, exactly as across replicas.
 * `/metrics` answers every worker's series summed, whichever worker a scrape reaches
 * (observability/cluster-metrics.ts).
 */
import cluster, { type Worker } from "node:cluster";
import { type Logger, runService } from "@nexus/core";
import { startGateway } from "./app.ts";
import { type Config, loadConfig } from "./config.ts";
import { serveClusterMetrics } from "./observability/cluster-metrics.ts";

/** A worker that dies sooner than this after it started listening is restarted after a pause. */
const QUICK_DEATH_MS = 10_000;
const MAX_RESTART_DELAY_MS = 30_000;

/** The gateway's entry: a single process, or a primary with `config.workers` workers. */
export async function runGateway(): Promise<void> {
  if (cluster.isWorker) {
    // The primary decides when a worker stops, and says so with SIGTERM. A Ctrl-C in a
    // terminal reaches the whole process group; the worker leaves it to the primary, so it gets
    // one signal and drains, instead of a second one that would make it exit at once.
    process.on("SIGINT", () => {});
    await runService("gateway", loadConfig, startGateway, { signals: ["SIGTERM"] });
    return;
  }
  await runService("gateway", loadConfig, (config, logger) =>
    config.workers > 1 ? startPrimary(config, logger) : startGateway(config, logger),
  );
}

/**
 * Forks the workers and resolves once every one of them is listening; a worker that dies
 * before then is a start-up failure (bad supergraph, port taken), so the others are stopped
 * and start-up fails with it. Later deaths are restarted, after a pause that doubles while
 * they keep dying quickly.
 */
async function startPrimary(config: Config, logger: Logger): Promise<{ stop(): Promise<void> }> {
  let stopping = false;
  let restartDelayMs = 0;
  const listeningSince = new Map<Worker, number>();

  serveClusterMetrics();

  const fork = () => {
    const worker = cluster.fork();
    worker.once("listening", () => listeningSince.set(worker, Date.now()));
    return worker;
  };

  const started = await new Promise<boolean>((resolve) => {
    let listening = 0;
    const onListening = () => {
      listening += 1;
      if (listening === config.workers) {
        cluster.off("listening", onListening);
        cluster.off("exit", onEarlyExit);
        resolve(true);
      }
    };
    const onEarlyExit = (worker: Worker, code: number | null, signal: string | null) => {
      logger.error("gateway worker failed to start", { pid: worker.process.pid, code, signal });
      cluster.off("listening", onListening);
      cluster.off("exit", onEarlyExit);
      resolve(false);
    };
    cluster.on("listening", onListening);
    cluster.on("exit", onEarlyExit);
    for (let i = 0; i < config.workers; i++) fork();
  });

  const stopWorkers = async () => {
    stopping = true;
    const alive = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => !!worker);
    await Promise.all(
      alive.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            worker.once("exit", () => resolve());
            worker.process.kill("SIGTERM");
          }),
      ),
    );
  };

  if (!started) {
    await stopWorkers();
    throw new Error("a gateway worker exited before it was listening; its log says why");
  }

  cluster.on("exit", (worker, code, signal) => {
    const since = listeningSince.get(worker);
    listeningSince.delete(worker);
    if (stopping) return;
    const quick = since === undefined || Date.now() - since < QUICK_DEATH_MS;
    restartDelayMs = quick ? Math.min(Math.max(restartDelayMs * 2, 500), MAX_RESTART_DELAY_MS) : 0;
    logger.error("gateway worker died; starting another", {
      pid: worker.process.pid,
      code,
      signal,
      restartInMs: restartDelayMs,
    });
    setTimeout(() => {
      if (!stopping) fork();
    }, restartDelayMs).unref();
  });

  logger.info("gateway workers ready", {
    workers: config.workers,
    pids: Object.values(cluster.workers ?? {}).map((worker) => worker?.process.pid),
    url: `http://${config.host}:${config.port}/graphql`,
  });
  return { stop: stopWorkers };
}
