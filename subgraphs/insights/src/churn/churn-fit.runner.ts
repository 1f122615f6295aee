import { Worker } from "node:worker_threads";
import { type ChurnFitInput, type ChurnFitOutput, inputBuffers } from "./churn-fit.model.ts";

type WorkerAnswer = { ok: true; output: ChurnFitOutput } | { ok: false; message: string };

/**
 * Runs `fitChurn` in a worker thread of its own and ends the thread with the answer, so the
 * memory of a fit is given back at once and a crash of the fit cannot take the subgraph down.
 * The input's typed arrays are transferred to the worker: the caller must not use them after.
 */
export function runChurnFit(input: ChurnFitInput): Promise<ChurnFitOutput> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./churn-fit.worker.ts", import.meta.url));
    let settled = false;
    const settle = (action: () => void) => {
      if (settled) return;
      settled = true;
      action();
      void worker.terminate();
    };
    worker.once("message", (answer: WorkerAnswer) =>
      settle(() => (answer.ok ? resolve(answer.output) : reject(new Error(answer.message)))),
    );
    worker.once("error", (error) => settle(() => reject(error)));
    worker.once("exit", (code) =>
      settle(() => reject(new Error(`The churn training worker exited with code ${code}.`))),
    );
    worker.postMessage(input, inputBuffers(input));
  });
}
