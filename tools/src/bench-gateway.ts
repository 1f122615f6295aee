/**
 * `pnpm bench:gateway [cpu|latency]`: what the gateway's policies cost.
 *   cpu (default)  CPU per request under load on the public federation benchmark's shape,
 *                  against a bare @apollo/gateway and Hive Gateway (bench-gateway/federation.ts)
 *   latency        latency added per request on the Nexus supergraph, one request at a time
 *                  (bench-gateway/latency.ts)
 */
const MODES = { cpu: "./bench-gateway/federation.ts", latency: "./bench-gateway/latency.ts" } as const;

const mode = process.argv[2] ?? "cpu";
if (!Object.hasOwn(MODES, mode)) {
  console.error(`usage: pnpm bench:gateway [${Object.keys(MODES).join("|")}], got "${mode}"`);
  process.exit(2);
}
await import(MODES[mode as keyof typeof MODES]);
