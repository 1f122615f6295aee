import { runService } from "@nexus/core";
import { startApp } from "./app.ts";
import { loadConfig } from "./config.ts";

await runService("notifications", loadConfig, startApp);
