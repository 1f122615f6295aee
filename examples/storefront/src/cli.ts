/**
 * The example storefront against a running gateway, printing each step:
 *
 *   pnpm --filter @nexus/example-storefront start [--gateway URL] [--category SLUG] [--guest EMAIL] ...
 *
 * `--help` lists the options. Exits 1 with the reason when a step fails.
 */
import { parseArgs } from "node:util";
import { createClient } from "./client.ts";
import {
  CLIENT_NAME,
  CLIENT_VERSION,
  DEFAULT_CATEGORY,
  DEFAULT_GATEWAY_URL,
  DEMO_ADDRESS,
  DEMO_CUSTOMER,
} from "./defaults.ts";
import { describeStep } from "./describe-step.ts";
import { runStorefront, type StorefrontOptions } from "./flow.ts";

const HELP = `Usage: pnpm --filter @nexus/example-storefront start [options]

  --gateway URL          the gateway's GraphQL endpoint (default NEXUS_GATEWAY_URL or ${DEFAULT_GATEWAY_URL})
  --category SLUG        the category to browse (default ${DEFAULT_CATEGORY})
  --page-size N          products per page, 1 to 100 (default 4)
  --pages N              pages of the category to read at most (default 2)
  --email EMAIL          sign in with this account (default the demo customer, ${DEMO_CUSTOMER.email})
  --password PASSWORD    its password (default the demo customer's)
  --guest EMAIL          check out as a guest instead; the store must allow it (GUEST_CHECKOUT=true)
  --quantity N           units to buy, 1 to 99 (default 1)
  --payment-token TOKEN  the payment provider's token (the test provider declines tok_test_decline)
  --help                 this text`;

function positiveInt(name: string, value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < 1) {
    throw new Error(`--${name} takes a whole number of at least 1, got "${value}"`);
  }
  return parsed;
}

function parseOptions(argv: string[]): { gateway: string; options: StorefrontOptions } | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      gateway: { type: "string" },
      category: { type: "string", default: DEFAULT_CATEGORY },
      "page-size": { type: "string", default: "4" },
      pages: { type: "string", default: "2" },
      email: { type: "string" },
      password: { type: "string" },
      guest: { type: "string" },
      quantity: { type: "string", default: "1" },
      "payment-token": { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return null;
  if (values.guest !== undefined && (values.email !== undefined || values.password !== undefined)) {
    throw new Error("--guest checks out without an account: leave out --email and --password");
  }
  if ((values.email === undefined) !== (values.password === undefined)) {
    throw new Error("--email and --password go together");
  }
  return {
    gateway: values.gateway ?? process.env.NEXUS_GATEWAY_URL ?? DEFAULT_GATEWAY_URL,
    options: {
      categorySlug: values.category,
      pageSize: positiveInt("page-size", values["page-size"]),
      pages: positiveInt("pages", values.pages),
      identity:
        values.guest !== undefined
          ? { kind: "guest", email: values.guest }
          : {
              kind: "customer",
              email: values.email ?? DEMO_CUSTOMER.email,
              password: values.password ?? DEMO_CUSTOMER.password,
            },
      quantity: positiveInt("quantity", values.quantity),
      address: DEMO_ADDRESS,
      ...(values["payment-token"] ? { paymentToken: values["payment-token"] } : {}),
    },
  };
}

try {
  // `pnpm start -- --pages 3` passes the `--` on; options after it are still options here.
  const argv = process.argv.slice(2);
  const parsed = parseOptions(argv[0] === "--" ? argv.slice(1) : argv);
  if (!parsed) {
    console.log(HELP);
  } else {
    console.log(`Storefront against ${parsed.gateway}\n`);
    const run = await runStorefront(
      createClient({ endpoint: parsed.gateway, name: CLIENT_NAME, version: CLIENT_VERSION }),
      parsed.options,
      (step) => {
        console.log(`${describeStep(step).join("\n")}\n`);
      },
    );
    if (run.followed && run.followed.status !== "CONFIRMED") process.exitCode = 1;
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  if (error instanceof TypeError && error.cause)
    console.error(`(${String(error.cause)}: is the gateway running? pnpm start)`);
  process.exitCode = 1;
}
