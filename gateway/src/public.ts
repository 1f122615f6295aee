/**
 * What the gateway package offers the rest of the repository (tools/ and e2e/ start gateways
 * in-process): the package's one entry point. Everything else in src/ is the gateway's own.
 */

export { type RunningGateway, startGateway } from "./app.ts";
export { type Config, loadConfig } from "./config.ts";
export { declareAccessDirectivesEnforced } from "./operation/access-control.ts";
