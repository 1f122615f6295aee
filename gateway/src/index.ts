import { runService } from "@nexus/core";
import { startGateway } from "./app.ts";
import { loadConfig } from "./config.ts";

await runService("gateway", loadConfig, startGateway);
