import { type ConfigOf, loadConfigFrom, serviceConfigSchema } from "@nexus/core";
import { eventsConfigSchema } from "@nexus/events";
import { databaseUrlField } from "@nexus/stores";

const configSchema = serviceConfigSchema("insights", 4005).safeExtend({
  databaseUrl: databaseUrlField("insights"),
  ...eventsConfigSchema.shape,
});

export type Config = ConfigOf<typeof configSchema>;

export function loadConfig(processEnv: NodeJS.ProcessEnv = process.env): Config {
  return loadConfigFrom(configSchema, processEnv);
}
