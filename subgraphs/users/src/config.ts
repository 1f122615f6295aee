import { createEnvReader, readServiceConfig, type ServiceConfig } from "@nexus/core";
import { readDatabaseUrl } from "@nexus/stores";

export interface Config extends ServiceConfig {
  databaseUrl: string;
  /** PKCS#8 PEM of the ES256 signing key; unset in development means a generated key under .nexus/. */
  jwtPrivateKey: string | undefined;
  accessTokenTtlSeconds: number;
  seedDemoData: boolean;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const read = createEnvReader(env);
  const service = readServiceConfig(read, "users", 4001);
  const config: Config = {
    ...service,
    databaseUrl: readDatabaseUrl(read, "users"),
    jwtPrivateKey: read.optionalString("JWT_PRIVATE_KEY")?.replaceAll("\\n", "\n"),
    accessTokenTtlSeconds: read.int("ACCESS_TOKEN_TTL_SECONDS", 900, { min: 60, max: 3600 }),
    seedDemoData: read.bool("SEED_DEMO_DATA", false),
  };
  read.done();
  if (service.production && !config.jwtPrivateKey) {
    throw new Error("JWT_PRIVATE_KEY is required when NODE_ENV=production.");
  }
  return Object.freeze(config);
}
