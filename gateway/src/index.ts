import { createLogger, exitOnStartupError, onShutdown } from "@nexus/core";
import { startGateway } from "./app.ts";
import { loadConfig } from "./config.ts";

const logger = createLogger("gateway");
try {
  const config = loadConfig();
  const gateway = await startGateway(config, createLogger("gateway", config.logLevel));
  onShutdown(logger, gateway.stop);
} catch (error) {
  exitOnStartupError(logger, error);
}
