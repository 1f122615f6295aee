import { createLogger, exitOnStartupError, onShutdown } from "@nexus/core";
import { startApp } from "./app.ts";
import { loadConfig } from "./config.ts";

const logger = createLogger("insights");
try {
  const config = loadConfig();
  const app = await startApp(config, createLogger("insights", config.logLevel));
  onShutdown(logger, app.stop);
} catch (error) {
  exitOnStartupError(logger, error);
}
