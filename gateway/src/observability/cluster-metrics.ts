/**
 * `/metrics` under `GATEWAY_WORKERS` > 1 must not depend on which worker a scrape reaches: the
 * worker that gets it asks the primary, which collects every worker's registry and answers with
 * the sums (prom-client's AggregatorRegistry: counters and histograms add up across workers).
 */
import cluster from "node:cluster";
import { AggregatorRegistry, type Registry } from "prom-client";

const METRICS_REQUEST = "nexus:gateway-metrics-request";
const METRICS_RESPONSE = "nexus:gateway-metrics-response";
/** How long a scrape waits for the primary's sums (prom-client itself gives workers 5 s). */
const METRICS_TIMEOUT_MS = 6_000;

interface MetricsRequest {
  type: typeof METRICS_REQUEST;
  id: number;
}
interface MetricsResponse {
  type: typeof METRICS_RESPONSE;
  id: number;
  text?: string;
  error?: string;
}

/** In the primary: answers each worker's request with every worker's series, summed. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on("message", (worker, message: MetricsRequest) => {
    if (message?.type !== METRICS_REQUEST) return;
    const reply = (answer: Omit<MetricsResponse, "type" | "id">) => {
      if (worker.isConnected()) worker.send({ type: METRICS_RESPONSE, id: message.id, ...answer });
    };
    aggregator.clusterMetrics().then(
      (text) => reply({ text }),
      (error: unknown) => reply({ error: error instanceof Error ? error.message : String(error) }),
    );
  });
}

/**
 * In a worker, what `/metrics` answers: every worker's series summed by the primary. Outside a
 * cluster, this registry's own.
 */
export function clusterMetrics(registry: Registry): () => Promise<string> {
  if (!cluster.isWorker) return () => registry.metrics();
  // Answers the primary's requests for this worker's series (prom-client's protocol).
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry();
  let next = 0;
  const pending = new Map<number, { resolve(text: string): void; reject(error: Error): void }>();
  process.on("message", (message: MetricsResponse) => {
    if (message?.type !== METRICS_RESPONSE) return;
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.text !== undefined) waiter.resolve(message.text);
    else waiter.reject(new Error(`the gateway's workers did not report metrics: ${message.error}`));
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error("the gateway's primary process did not answer for metrics"));
      }, METRICS_TIMEOUT_MS);
      pending.set(id, {
        resolve: (text) => {
          clearTimeout(timer);
          resolve(text);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      process.send?.({ type: METRICS_REQUEST, id } satisfies MetricsRequest);
    });
}
