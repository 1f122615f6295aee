/**
 * `pnpm start`: the whole supergraph on this machine with demo data.
 * Checks PostgreSQL and Redis, starts a local mail catcher unless SMTP_URL names a mail server
 * (each message lands as an .eml file in .nexus/mail/ and is announced on stdout), starts the
 * subgraphs and the gateway as separate processes (as in production), waits until each is
 * healthy, places a few demo orders and loads a generated purchase history
 * (tools/src/history/) through the gateway on first run, prints the endpoint and logins, and
 * stops everything on Ctrl-C.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import {
  createLogger,
  DEFAULT_DATABASE_URL,
  DEFAULT_REDIS_URL,
  env,
  loadConfigFrom,
  loadSubgraphSecrets,
  storeCurrencyField,
} from "@nexus/core";
import type { MailCatcher } from "@nexus/mail";
import { connectRedis, ensureDatabase, StoreUnavailableError } from "@nexus/stores";
import { until } from "@nexus/testing";
import { DEMO_ACCOUNTS, DEMO_PARTNER } from "@nexus/users/demo";
import { z } from "zod";
import { placeDemoOrders, signIn } from "./demo-orders.ts";
import { DEMO_DISCOUNT_CODE, seedDemoStore } from "./demo-store.ts";
import { demoHistoryOptions, seedDemoHistory, trainDemoModels } from "./history/seed-demo.ts";
import {
  DEFAULT_MAIL_CATCHER_PORT,
  MailCatcherUnavailableError,
  mailDestination,
  startLocalMail,
} from "./local-mail.ts";
import { repoRoot, SUBGRAPHS, serviceEntry } from "./subgraphs.ts";

const started = performance.now();
// A .env in the repository root is optional; variables already set in the shell win.
if (existsSync(`${repoRoot}.env`)) process.loadEnvFile(`${repoRoot}.env`);
const PORT = { min: 1, max: 65535 };
const subgraphPorts = Object.fromEntries(
  SUBGRAPHS.map(({ name, port }) => [name, env.int(`${name.toUpperCase()}_PORT`, port, PORT)]),
) as Record<(typeof SUBGRAPHS)[number]["name"], ReturnType<typeof env.int>>;
/** The few variables the start script reads itself; each service reads the rest. */
const startConfigSchema = z.object({
  databaseUrl: env.url("DATABASE_URL", DEFAULT_DATABASE_URL, ["postgres:", "postgresql:"]),
  redisUrl: env.url("REDIS_URL", DEFAULT_REDIS_URL, ["redis:", "rediss:"]),
  ports: z.object({ ...subgraphPorts, gateway: env.int("GATEWAY_PORT", 4000, PORT) }),
  /** A mail server of your own; unset, the services send to the local mail catcher. */
  smtpUrl: env.optionalString("SMTP_URL"),
  mailCatcherPort: env.int("MAIL_CATCHER_PORT", DEFAULT_MAIL_CATCHER_PORT, PORT),
  /** The demo history is imported in it, as the catalog prices everything in it. */
  storeCurrency: storeCurrencyField(),
});
let config: z.output<typeof startConfigSchema>;
try {
  config = loadConfigFrom(startConfigSchema, process.env);
} catch (error) {
  process.stdout.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
const { databaseUrl, redisUrl, ports, smtpUrl, mailCatcherPort, storeCurrency } = config;
const mailDir = join(repoRoot, ".nexus", "mail");

const say = (line: string) => process.stdout.write(`${line}\n`);

async function checkStores(): Promise<void> {
  await ensureDatabase(new URL("/postgres", databaseUrl).toString());
  const redis = await connectRedis(redisUrl);
  redis.disconnect();
}

interface Service {
  name: string;
  port: number;
  entry: string;
  child?: ChildProcess;
  output: string[];
}

const services: Service[] = [
  ...SUBGRAPHS.map(({ name }) => ({
    name,
    port: ports[name],
    entry: serviceEntry(name),
    output: [],
  })),
  {
    name: "gateway",
    port: ports.gateway,
    entry: serviceEntry("gateway"),
    output: [],
  },
];
let stopping = false;
let mailCatcher: MailCatcher | null = null;

function launch(service: Service): void {
  const child = spawn(process.execPath, [service.entry], {
    cwd: repoRoot,
    env: {
      SEED_DEMO_DATA: "true",
      LOG_LEVEL: "warn",
      ...process.env,
      ...(mailCatcher ? { SMTP_URL: mailCatcher.url } : {}),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  service.child = child;
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => {
      service.output.push(line);
      if (service.output.length > 50) service.output.shift();
      say(`[${service.name}] ${line}`);
    });
  }
  child.once("exit", (code, signal) => {
    if (stopping) return;
    say(`\n${service.name} exited (${signal ?? `code ${code}`}); stopping the rest.`);
    void stopAll(1);
  });
}

async function waitHealthy(service: Service, timeoutMs = 90_000): Promise<void> {
  try {
    await until(
      `${service.name} to become healthy`,
      async () => {
        if (stopping) throw new Error("stopped");
        try {
          const response = await fetch(`http://127.0.0.1:${service.port}/health`);
          return response.ok ? true : undefined;
        } catch {
          return undefined; // not listening yet
        }
      },
      { timeoutMs, intervalMs: 250 },
    );
  } catch (error) {
    if (stopping) throw error;
    throw new Error(`${service.name} did not become healthy within ${timeoutMs / 1000}s`);
  }
}

async function stopAll(exitCode: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    const running = services.filter(
      (s) => s.child && s.child.exitCode === null && s.child.signalCode === null,
    );
    await Promise.all(
      running.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.child?.once("exit", () => resolve());
            s.child?.kill("SIGTERM");
            setTimeout(() => s.child?.kill("SIGKILL"), 10_000).unref();
          }),
      ),
    );
    // After the services: a message they were still sending has been accepted by now.
    await mailCatcher?.stop();
    say("Nexus stopped.");
  }
  process.exit(exitCode);
}

process.once("SIGINT", () => void stopAll(0));
process.once("SIGTERM", () => void stopAll(0));

try {
  await checkStores();
  // Subgraphs answer only calls signed with the secret they share with the gateway. Without
  // SUBGRAPH_SECRET each service reads the one in .nexus/; it is made here, once, before they start.
  await loadSubgraphSecrets(
    { production: false, subgraphSecret: process.env.SUBGRAPH_SECRET, subgraphSecretPrevious: undefined },
    createLogger("start", "silent"),
  );
  if (smtpUrl === undefined) {
    mailCatcher = await startLocalMail({
      dir: mailDir,
      port: mailCatcherPort,
      root: repoRoot,
      onMail: (line) => say(`[mail] ${line}`),
    });
  }
} catch (error) {
  say(`\nCannot start Nexus: ${error instanceof Error ? error.message : String(error)}`);
  if (!(error instanceof StoreUnavailableError || error instanceof MailCatcherUnavailableError))
    console.error(error);
  await mailCatcher?.stop();
  process.exit(1);
}
const mail = mailDestination(mailCatcher && { url: mailCatcher.url, dir: mailDir, root: repoRoot }, smtpUrl);

const gateway = services.at(-1) as Service;
const subgraphs = services.slice(0, -1);
try {
  say(`Mail goes to ${mail}.`);
  say(`Starting the subgraphs: ${subgraphs.map((s) => s.name).join(", ")} ...`);
  for (const service of subgraphs) launch(service);
  await Promise.all(subgraphs.map((service) => waitHealthy(service)));
  say("Starting the gateway ...");
  launch(gateway);
  await waitHealthy(gateway);
} catch (error) {
  if (!stopping) {
    say(`\nCannot start Nexus: ${error instanceof Error ? error.message : String(error)}`);
    await stopAll(1);
  }
}

const endpoint = `http://localhost:${gateway.port}/graphql`;
/** The demo admin's access token, for the set-up that follows. */
const adminToken = () => signIn(endpoint, DEMO_ACCOUNTS[1]);

// Shipping zones, tax rates and a discount code, before the demo orders that use them.
try {
  if (await seedDemoStore(endpoint, await adminToken())) {
    say(`Demo store set up: shipping to the US and Europe, tax rates, discount code ${DEMO_DISCOUNT_CODE}.`);
  }
} catch (error) {
  say(`Could not set up the demo store: ${error instanceof Error ? error.message : String(error)}`);
}
try {
  const placed = await placeDemoOrders(endpoint);
  if (placed > 0) say(`Placed ${placed} demo orders for ${DEMO_ACCOUNTS[0].email}.`);
} catch (error) {
  say(`Could not place the demo orders: ${error instanceof Error ? error.message : String(error)}`);
}

// Months of purchases for insights to show; a later start, or a store that imported its own
// history, finds history there and sends nothing more.
try {
  const token = await adminToken();
  say("Loading the demo purchase history (8 months, 300 customers) through the import mutations ...");
  const history = await seedDemoHistory(endpoint, token, { currencyCode: storeCurrency });
  if (history.seeded) {
    const { orders, returns, customers } = history.outcome;
    say(
      `Demo history loaded: ${orders.created} orders, ${returns.created} returns, ${customers.created} customers.`,
    );
  } else if (history.reason === "store-history") {
    say("Demo history not loaded: the store has an imported history of its own.");
  } else {
    say("Demo history already loaded.");
  }
  if (history.seeded || history.reason === "already-loaded") {
    const models = await trainDemoModels(endpoint, token, {
      orders: history.seeded ? history.outcome.orders.created : 0,
      from: new Date(demoHistoryOptions(new Date()).start ?? Date.now()),
    });
    if (models.trained) {
      say(
        `Churn model trained on it: AUC ${models.auc.toFixed(3)} (recency alone ${models.recencyAuc.toFixed(3)}), ${models.scoredCustomers} customers scored.`,
      );
    } else if (models.reason !== "model-exists") {
      say(`Churn model not trained: ${models.reason}`);
    }
  }
} catch (error) {
  say(`Could not load the demo history: ${error instanceof Error ? error.message : String(error)}`);
}

// Asked rather than worked out from GRAPHIQL and NODE_ENV: the gateway knows what it serves.
const graphiql = `http://localhost:${gateway.port}/graphiql`;
const graphiqlServed = await fetch(graphiql).then(
  async (response) => {
    await response.body?.cancel();
    return response.ok;
  },
  () => false,
);

const seconds = ((performance.now() - started) / 1000).toFixed(1);
say(`
Nexus is up in ${seconds}s.

  GraphQL endpoint   ${endpoint}${graphiqlServed ? `\n  GraphiQL           ${graphiql}` : ""}
  Subgraphs          ${subgraphs.map((s) => `${s.name} :${s.port}`).join(", ")}
  Mail               ${mail}

  Demo logins        ${DEMO_ACCOUNTS.map((a) => `${a.email} / ${a.password} (${a.role})`).join("\n                     ")}
  Demo partner key   x-api-key: ${DEMO_PARTNER.apiKey}

  Try it:
    curl -s ${endpoint} -H 'content-type: application/json' \\
      -d '{"query":"{ products(first: 3) { edges { node { name price { amount currencyCode } inventory { available } } } } }"}'

Press Ctrl-C to stop.`);
