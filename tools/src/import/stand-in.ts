/**
 * Test support: a stand-in for the gateway that keeps the import contract in memory, for the
 * client's tests. Not a database: the services behind the import mutations are tested in their
 * subgraphs; this checks what the client sends and how it takes the answers.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stand-in for the gateway that keeps the import contract in memory: idempotent by sku,
 * external id and invoice number, refusing bodies over 128 KiB as the gateway does. It records
 * every request so the tests can look at what the client sent.
 */
export interface Received {
  operation: string;
  bytes: number;
  authorization: string | undefined;
  input: Record<string, unknown[]>;
}

export function standIn(
  options: { refuseFirst?: number; errors?: boolean; refuseSku?: string; importedCategory?: boolean } = {},
) {
  const products = new Map<string, string>();
  const customers = new Map<string, string>();
  const invoices = new Set<string>();
  const received: Received[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let refusals = options.refuseFirst ?? 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks);
      const send = (status: number, value: unknown, headers: Record<string, string> = {}) => {
        response.writeHead(status, { "content-type": "application/json", ...headers });
        response.end(JSON.stringify(value));
      };
      if (body.length > 128 * 1024) return send(413, { errors: [{ message: "body too large" }] });
      const { query, variables } = JSON.parse(body.toString()) as {
        query: string;
        variables: { input?: Record<string, unknown[]>; token?: string };
      };
      if (query.includes("login(")) {
        return send(200, {
          data: { login: { accessToken: "access-1", refreshToken: "refresh-1", userErrors: [] } },
        });
      }
      if (query.includes("category(")) {
        received.push({
          operation: "category",
          bytes: body.length,
          authorization: request.headers.authorization,
          input: {},
        });
        return send(200, { data: { category: options.importedCategory ? { id: "c-imported" } : null } });
      }
      if (query.includes("refreshToken(")) {
        const n = Number(variables.token?.split("-")[1]) + 1;
        return send(200, {
          data: {
            refreshToken: { accessToken: `access-${n}`, refreshToken: `refresh-${n}`, userErrors: [] },
          },
        });
      }
      if (refusals > 0) {
        refusals--;
        return send(
          429,
          { errors: [{ message: "slow down", extensions: { code: "RATE_LIMITED" } }] },
          { "retry-after": "1" },
        );
      }
      if (options.errors)
        return send(200, { errors: [{ message: "no", extensions: { code: "FORBIDDEN" } }] });
      const input = variables.input ?? {};
      const operation = /importProducts|importCustomers|importOrders/.exec(query)?.[0] ?? "unknown";
      received.push({ operation, bytes: body.length, authorization: request.headers.authorization, input });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        if (operation === "importProducts") {
          // Like the catalog: one invalid product refuses the whole call.
          const refused = (input.products as { sku: string }[]).flatMap((product, index) =>
            product.sku === options.refuseSku
              ? [
                  {
                    field: ["input", "products", String(index), "sku"],
                    message: "bad sku",
                    code: "INVALID_SKU",
                  },
                ]
              : [],
          );
          if (refused.length > 0)
            return send(200, { data: { importProducts: { products: [], userErrors: refused } } });
          const rows = (input.products as { sku: string; name: string }[]).map((product) => {
            const created = !products.has(product.sku);
            if (created) products.set(product.sku, `p${products.size + 1}`);
            return {
              sku: product.sku,
              created,
              categoryId: "c1",
              product: { id: products.get(product.sku), name: product.name },
            };
          });
          return send(200, { data: { importProducts: { products: rows, userErrors: [] } } });
        }
        if (operation === "importCustomers") {
          const rows = (input.customers as { externalId: string }[]).map((customer) => {
            const created = !customers.has(customer.externalId);
            if (created) customers.set(customer.externalId, `u${customers.size + 1}`);
            return {
              externalId: customer.externalId,
              created,
              user: { id: customers.get(customer.externalId) },
            };
          });
          return send(200, { data: { importCustomers: { customers: rows, userErrors: [] } } });
        }
        const count = (list: { externalId: string }[]) => {
          let created = 0;
          for (const item of list) {
            if (!invoices.has(item.externalId)) created++;
            invoices.add(item.externalId);
          }
          return { created, existing: list.length - created };
        };
        const orders = count(input.orders as { externalId: string }[]);
        const returns = count(input.returns as { externalId: string }[]);
        return send(200, {
          data: {
            importOrders: {
              ordersCreated: orders.created,
              ordersExisting: orders.existing,
              returnsCreated: returns.created,
              returnsExisting: returns.existing,
              userErrors: [],
            },
          },
        });
      }, 2);
    });
  });
  return {
    received,
    maxInFlight: () => maxInFlight,
    async start() {
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      servers.push(server);
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    },
  };
}

const servers: Server[] = [];

/** Closes every stand-in started since the last call (for afterEach). */
export async function closeStandIns(): Promise<void> {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
}
