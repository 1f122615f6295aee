import { randomBytes } from "node:crypto";
import { type Db, MongoClient } from "mongodb";
import { inject } from "vitest";

export interface TestMongo {
  client: MongoClient;
  db: Db;
  /** Every command sent, by name, in order; clear it between assertions. */
  commands: { name: string; collection: unknown }[];
  close(): Promise<void>;
}

/**
 * A fresh database on the run's shared embedded MongoDB (started once by the global setup),
 * with command monitoring on so tests can count round trips.
 */
export async function createTestMongo(label: string): Promise<TestMongo> {
  const url = inject("mongoUrl");
  const client = new MongoClient(url, { monitorCommands: true });
  await client.connect();
  const db = client.db(`nexus_test_${label}_${randomBytes(4).toString("hex")}`);
  const commands: TestMongo["commands"] = [];
  client.on("commandStarted", (event) => {
    if (event.databaseName === db.databaseName) {
      commands.push({ name: event.commandName, collection: event.command[event.commandName] });
    }
  });
  return {
    client,
    db,
    commands,
    async close() {
      await db.dropDatabase().catch(() => {});
      await client.close();
    },
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    mongoUrl: string;
  }
}
