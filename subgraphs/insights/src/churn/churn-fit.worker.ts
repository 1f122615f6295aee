import { parentPort } from "node:worker_threads";
import { type ChurnFitInput, fitChurn, outputBuffers } from "./churn-fit.model.ts";

/**
 * The training worker's entry: one fit per message, answered with `{ ok, output }` (its typed
 * arrays transferred) or `{ ok: false, message }`. It runs on its own thread so fitting never
 * blocks the subgraph's event loop; `runChurnFit` starts it.
 */
parentPort?.on("message", (input: ChurnFitInput) => {
  try {
    const output = fitChurn(input);
    parentPort?.postMessage({ ok: true, output }, outputBuffers(output));
  } catch (error) {
    parentPort?.postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) });
  }
});
