import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { type Db, MongoClient, type MongoClientOptions } from "mongodb";
import { redactUrl, StoreUnavailableError } from "./errors.ts";

export interface MongoConnection {
  client: MongoClient;
  db: Db;
  /** The URL actually connected to (the embedded server's when it was started). */
  url: string;
  embedded: boolean;
  close(): Promise<void>;
}

export interface MongoConnectOptions {
  url: string;
  database: string;
  /** Start the embedded server when nothing answers at `url` (local demos and tests only). */
  embeddedFallback: boolean;
  clientOptions?: MongoClientOptions;
}

export async function connectMongo(options: MongoConnectOptions): Promise<MongoConnection> {
  const direct = await tryConnect(options.url, options.clientOptions);
  if (direct) return wrap(direct, options, false, async () => {});
  if (!options.embeddedFallback) {
    throw new StoreUnavailableError(
      "MongoDB",
      redactUrl(options.url),
      "Start MongoDB (e.g. `docker compose up mongo`), set MONGO_URL, or set MONGO_EMBEDDED=true for the embedded demo server.",
    );
  }
  const embedded = await startEmbeddedMongo();
  const client = await tryConnect(embedded.url, options.clientOptions);
  if (!client) {
    await embedded.stop();
    throw new StoreUnavailableError(
      "MongoDB",
      embedded.url,
      "The embedded server started but did not answer.",
    );
  }
  return wrap({ ...client, url: embedded.url }, options, true, embedded.stop);
}

function wrap(
  connected: { client: MongoClient; url: string },
  options: MongoConnectOptions,
  embedded: boolean,
  stopServer: () => Promise<void>,
): MongoConnection {
  return {
    client: connected.client,
    db: connected.client.db(options.database),
    url: connected.url,
    embedded,
    async close() {
      await connected.client.close();
      await stopServer();
    },
  };
}

async function tryConnect(
  url: string,
  clientOptions: MongoClientOptions = {},
): Promise<{ client: MongoClient; url: string } | null> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 1500, ...clientOptions });
  try {
    await client.connect();
    await client.db("admin").command({ ping: 1 });
    return { client, url };
  } catch {
    await client.close().catch(() => {});
    return null;
  }
}

export interface EmbeddedMongo {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts the jongodb server shipped in an npm package: an in-memory server that speaks the
 * MongoDB wire protocol, so the real driver runs unchanged. It prints `JONGODB_URI=...`
 * once it accepts connections. See ARCHITECTURE.md for what it does not implement.
 */
export async function startEmbeddedMongo(port = 0): Promise<EmbeddedMongo> {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve("@jongodb/memory-server-bin-linux-x64-gnu/package.json");
  const binary = join(dirname(packageJson), "bin", "jongodb");
  const child = spawn(binary, ["--host=127.0.0.1", `--port=${port}`], { stdio: ["ignore", "pipe", "pipe"] });
  const stderr: string[] = [];
  child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("embedded MongoDB did not start within 30s")), 30_000);
    createInterface({ input: child.stdout }).on("line", (line) => {
      const match = /^JONGODB_URI=(\S+)/.exec(line);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`embedded MongoDB exited with code ${code}: ${stderr.join("").trim()}`));
    });
  });

  return {
    // The printed URI names a `test` database; callers choose their own.
    url: url.replace(/\/[^/]*$/, "/"),
    stop: () => stopChild(child, killOnExit),
  };
}

async function stopChild(child: ChildProcess, killOnExit: () => void): Promise<void> {
  process.off("exit", killOnExit);
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 3000).unref();
  });
}
