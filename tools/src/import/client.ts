/**
 * Sends an import plan through the gateway: products (catalog), customers (users), then orders
 * and, once every order is in, returns (orders), a few requests at a time. Every mutation is
 * idempotent by sku, external id or invoice number, so sending a plan twice creates nothing
 * the second time.
 */
import { graphql } from "../graphql-client.ts";
import { batchBySize, CAPS } from "./batch.ts";
import type { ImportPlan, PlannedCustomer, PlannedInvoice, PlannedProduct } from "./plan.ts";

/** Hands out a bearer token, renewing a signed-in one before it runs out. */
export interface TokenSource {
  token(): Promise<string>;
}

/** A token given as is (`--token`): it must outlive the import. */
export const fixedToken = (token: string): TokenSource => ({ token: async () => token });

/** Access tokens live 15 minutes; a signed-in import renews well before. */
const RENEW_AFTER_MS = 10 * 60_000;

/** Signs in with a staff account's email and password, renewing through the refresh token. */
export async function signIn(endpoint: string, email: string, password: string): Promise<TokenSource> {
  interface Auth {
    accessToken: string | null;
    refreshToken: string | null;
    userErrors: { code: string; message: string }[];
  }
  const fields = "accessToken refreshToken userErrors { code message }";
  const check = (auth: Auth, what: string) => {
    if (!auth.accessToken || !auth.refreshToken) {
      throw new Error(`${what} failed: ${auth.userErrors.map((e) => `${e.code} ${e.message}`).join("; ")}`);
    }
    return { access: auth.accessToken, refresh: auth.refreshToken, at: Date.now() };
  };
  const login = await send<{ login: Auth }>(
    endpoint,
    null,
    `mutation ($input: LoginInput!) { login(input: $input) { ${fields} } }`,
    { input: { email, password } },
  );
  let current = check(login.login, `signing in as ${email}`);
  let renewing: Promise<void> | null = null;
  return {
    async token() {
      if (Date.now() - current.at > RENEW_AFTER_MS) {
        // Sent once: a refresh token sent again after an answer that got lost reads as theft
        // and signs the session out.
        renewing ??= send<{ refreshToken: Auth }>(
          endpoint,
          null,
          `mutation ($token: String!) { refreshToken(token: $token) { ${fields} } }`,
          { token: current.refresh },
          1,
        ).then(
          (data) => {
            current = check(data.refreshToken, "renewing the sign-in");
            renewing = null;
          },
          (error: unknown) => {
            renewing = null;
            throw error;
          },
        );
        await renewing;
      }
      return current.access;
    },
  };
}

export class ImportRequestError extends Error {}

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
const MAX_ATTEMPTS = 6;

/**
 * One GraphQL request with retries where waiting helps: the rate limit or cost budget (429,
 * after its Retry-After), an overloaded or restarting service (502-504) and connection
 * failures. Anything else, GraphQL errors included, fails the import. Every import mutation
 * is idempotent, so sending one again after a lost answer is safe.
 */
async function send<T>(
  endpoint: string,
  tokens: TokenSource | null,
  query: string,
  variables: Record<string, unknown>,
  attempts = MAX_ATTEMPTS,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let wait = Math.min(30_000, 500 * 2 ** attempt);
    try {
      const headers: Record<string, string> = tokens
        ? { authorization: `Bearer ${await tokens.token()}` }
        : {};
      const { status, headers: answer, body } = await graphql<T>(endpoint, query, variables, headers);
      if (!RETRYABLE_STATUS.has(status) || attempt >= attempts) {
        if (body.errors?.length || !body.data) {
          const errors = (body.errors ?? []).map((e) => `${e.extensions?.code ?? "ERROR"}: ${e.message}`);
          throw new ImportRequestError(`HTTP ${status}: ${errors.join("; ") || "no data"}`);
        }
        return body.data;
      }
      const retryAfter = Number(answer.get("retry-after"));
      if (Number.isFinite(retryAfter) && retryAfter > 0) wait = retryAfter * 1000;
    } catch (error) {
      if (error instanceof ImportRequestError || attempt >= attempts) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** Runs `work` on every item with at most `limit` running at once; the first failure stops new ones. */
export async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        await work(items[index] as T, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

interface UserError {
  field: string[] | null;
  message: string;
  code: string;
}

const USER_ERRORS = "userErrors { field message code }";
const IMPORT_PRODUCTS = `mutation ImportProducts($input: ImportProductsInput!) {
  importProducts(input: $input) { products { sku created categoryId product { id name } } ${USER_ERRORS} }
}`;
const IMPORT_CUSTOMERS = `mutation ImportCustomers($input: ImportCustomersInput!) {
  importCustomers(input: $input) { customers { externalId created user { id } } ${USER_ERRORS} }
}`;
const IMPORT_ORDERS = `mutation ImportOrders($input: ImportOrdersInput!) {
  importOrders(input: $input) { ordersCreated ordersExisting returnsCreated returnsExisting ${USER_ERRORS} }
}`;

export interface Tally {
  created: number;
  existing: number;
  /** Rejected by the service (a user error) or never sent (too large, or a part is missing). */
  failed: number;
}

export interface ImportOutcome {
  products: Tally;
  customers: Tally;
  orders: Tally;
  returns: Tally;
  requests: number;
  /** The first user errors, for the report. */
  userErrors: string[];
}

export interface ImportOptions {
  endpoint: string;
  tokens: TokenSource;
  currencyCode: string;
  /** Requests in flight at once (2 to 4 is gentle on the services). */
  concurrency?: number;
  /** Progress lines, one per phase. */
  log?: (line: string) => void;
}

const KEPT_USER_ERRORS = 20;

const emptyTally = (): Tally => ({ created: 0, existing: 0, failed: 0 });

/** Limits of the import mutations an item is checked against before it is sent. */
export const LIMITS = {
  customerExternalId: 64,
  invoiceExternalId: 100,
  invoiceLines: 1_000,
  invoiceTotal: 2_147_483_647,
} as const;

/**
 * Which items of a batch the user errors name, from their field paths (`input.orders.3.lines`):
 * an import refuses a whole call for one bad item, so the rest can go again without them.
 */
export function rejectedIndexes(errors: readonly UserError[], listName: string): Set<number> {
  const indexes = new Set<number>();
  for (const error of errors) {
    const path = error.field ?? [];
    const at = path.indexOf(listName);
    const index = at >= 0 ? Number(path[at + 1]) : Number.NaN;
    if (Number.isInteger(index)) indexes.add(index);
  }
  return indexes;
}

/** The rounds of a batch: the first try and up to two more without the items it was refused for. */
const BATCH_ROUNDS = 3;

/**
 * The import's phases, each sending its items in batches. Orders need the products' and
 * customers' ids, so `products` and `customers` run first; returns go after every order, as a
 * return is linked to the customer's latest earlier order.
 */
export class Importer {
  readonly outcome: ImportOutcome = {
    products: emptyTally(),
    customers: emptyTally(),
    orders: emptyTally(),
    returns: emptyTally(),
    requests: 0,
    userErrors: [],
  };
  private readonly productIds = new Map<string, { id: string; name: string; categoryId: string | null }>();
  private readonly customerIds = new Map<string, string>();

  private readonly options: ImportOptions;

  constructor(options: ImportOptions) {
    this.options = options;
  }

  async products(products: readonly PlannedProduct[]): Promise<void> {
    const { currencyCode } = this.options;
    const tally = this.outcome.products;
    await this.send(
      "products",
      IMPORT_PRODUCTS,
      "products",
      products.map((p) => ({ sku: p.sku, name: p.name, price: { amount: p.unitPrice, currencyCode } })),
      (batch) => ({ products: batch }),
      (data) => {
        const payload = (data as { importProducts: ProductsPayload }).importProducts;
        if (payload.userErrors.length > 0) return payload.userErrors;
        for (const row of payload.products) {
          this.productIds.set(row.sku, {
            id: row.product.id,
            name: row.product.name,
            categoryId: row.categoryId,
          });
          if (row.created) tally.created++;
          else tally.existing++;
        }
        return [];
      },
      tally,
    );
  }

  async customers(customers: readonly PlannedCustomer[]): Promise<void> {
    const tally = this.outcome.customers;
    const items = [];
    for (const customer of customers) {
      if (customer.externalId.length > LIMITS.customerExternalId || /\p{Cc}/u.test(customer.externalId)) {
        this.notSent(
          tally,
          `customer ${customer.externalId.slice(0, 20)}: the id is too long or has control characters`,
        );
      } else items.push({ externalId: customer.externalId, countryCode: customer.countryCode });
    }
    await this.send(
      "customers",
      IMPORT_CUSTOMERS,
      "customers",
      items,
      (batch) => ({ customers: batch }),
      (data) => {
        const payload = (data as { importCustomers: CustomersPayload }).importCustomers;
        if (payload.userErrors.length > 0) return payload.userErrors;
        for (const row of payload.customers) {
          this.customerIds.set(row.externalId, row.user.id);
          if (row.created) tally.created++;
          else tally.existing++;
        }
        return [];
      },
      tally,
    );
  }

  /**
   * Sends sale or credit invoices. One the services could not take is not sent: its customer or
   * a product did not import, it has more lines than an invoice may, or its total does not fit.
   */
  async invoices(kind: "orders" | "returns", invoices: readonly PlannedInvoice[]): Promise<void> {
    const { currencyCode } = this.options;
    const tally = this.outcome[kind];
    const items: Record<string, unknown>[] = [];
    for (const invoice of invoices) {
      const customerId =
        invoice.customerExternalId === null ? null : this.customerIds.get(invoice.customerExternalId);
      const lines = invoice.lines.map((line) => ({ line, product: this.productIds.get(line.sku) }));
      const total = invoice.lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0);
      const what = `${kind === "orders" ? "order" : "return"} ${invoice.externalId.slice(0, 20)}`;
      if (customerId === undefined) this.notSent(tally, `${what}: its customer was not imported`);
      else if (lines.some(({ product }) => !product))
        this.notSent(tally, `${what}: a product was not imported`);
      else if (invoice.lines.length > LIMITS.invoiceLines)
        this.notSent(tally, `${what}: more than ${LIMITS.invoiceLines} products`);
      else if (total > LIMITS.invoiceTotal)
        this.notSent(tally, `${what}: its total is too large for one order`);
      else if (invoice.externalId.length > LIMITS.invoiceExternalId)
        this.notSent(tally, `${what}: the invoice number is too long`);
      else {
        const at = new Date(invoice.at).toISOString();
        items.push(
          kind === "orders"
            ? {
                externalId: invoice.externalId,
                customerId,
                placedAt: at,
                currencyCode,
                countryCode: invoice.countryCode,
                lines: lines.map(({ product, line }) => ({
                  productId: product?.id,
                  productName: product?.name,
                  categoryId: product?.categoryId,
                  quantity: line.quantity,
                  unitPrice: line.unitPrice,
                })),
              }
            : {
                externalId: invoice.externalId,
                customerId,
                returnedAt: at,
                currencyCode,
                reason: "Imported return",
                lines: lines.map(({ product, line }) => ({
                  productId: product?.id,
                  quantity: line.quantity,
                  unitPrice: line.unitPrice,
                })),
              },
        );
      }
    }
    await this.send(
      kind,
      IMPORT_ORDERS,
      kind,
      items,
      (batch) => (kind === "orders" ? { orders: batch, returns: [] } : { orders: [], returns: batch }),
      (data) => {
        const payload = (data as { importOrders: OrdersPayload }).importOrders;
        if (payload.userErrors.length > 0) return payload.userErrors;
        tally.created += kind === "orders" ? payload.ordersCreated : payload.returnsCreated;
        tally.existing += kind === "orders" ? payload.ordersExisting : payload.returnsExisting;
        return [];
      },
      tally,
    );
  }

  private notSent(tally: Tally, message: string): void {
    tally.failed++;
    if (this.outcome.userErrors.length < KEPT_USER_ERRORS)
      this.outcome.userErrors.push(`not sent: ${message}`);
  }

  private keep(what: string, errors: readonly UserError[]): void {
    for (const error of errors) {
      if (this.outcome.userErrors.length >= KEPT_USER_ERRORS) return;
      this.outcome.userErrors.push(
        `${what}: ${error.code} ${error.message} (${(error.field ?? []).join(".")})`,
      );
    }
  }

  /**
   * Batches `items` under the size and count limits and sends the batches, a few at a time.
   * `handle` takes in an answer and returns its user errors; the mutations import nothing when
   * there are any, so the batch goes again without the items they name (counted as failed),
   * or fails whole when they name none.
   */
  private async send<T>(
    what: string,
    query: string,
    listName: keyof typeof CAPS,
    items: readonly T[],
    input: (batch: T[]) => Record<string, unknown>,
    handle: (data: unknown) => readonly UserError[],
    tally: Tally,
  ): Promise<void> {
    const { endpoint, tokens, concurrency = 3, log = () => {} } = this.options;
    const baseBytes = Buffer.byteLength(JSON.stringify({ query, variables: { input: input([]) } }));
    const { batches, oversized } = batchBySize(items, { maxItems: CAPS[listName], baseBytes });
    for (const _ of oversized)
      this.notSent(tally, `one of the ${what} alone is larger than a request may be`);
    const started = performance.now();
    await forEachConcurrently(batches, concurrency, async (first) => {
      let batch = first;
      for (let round = 1; batch.length > 0; round++) {
        const data = await send<unknown>(endpoint, tokens, query, { input: input(batch) });
        this.outcome.requests++;
        const errors = handle(data);
        if (errors.length === 0) return;
        this.keep(what, errors);
        const rejected = rejectedIndexes(errors, listName);
        if (rejected.size === 0 || round >= BATCH_ROUNDS) {
          tally.failed += batch.length;
          return;
        }
        tally.failed += rejected.size;
        batch = batch.filter((_, index) => !rejected.has(index));
      }
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    log(`${what}: ${items.length.toLocaleString("en")} in ${batches.length} batches (${seconds}s)`);
  }
}

/** Products, customers, orders, then returns. */
export async function importPlan(plan: ImportPlan, options: ImportOptions): Promise<ImportOutcome> {
  const importer = new Importer(options);
  await importer.products(plan.products);
  await importer.customers(plan.customers);
  await importer.invoices("orders", plan.orders);
  await importer.invoices("returns", plan.returns);
  return importer.outcome;
}

interface ProductsPayload {
  products: {
    sku: string;
    created: boolean;
    categoryId: string | null;
    product: { id: string; name: string };
  }[];
  userErrors: UserError[];
}
interface CustomersPayload {
  customers: { externalId: string; created: boolean; user: { id: string } }[];
  userErrors: UserError[];
}
interface OrdersPayload {
  ordersCreated: number;
  ordersExisting: number;
  returnsCreated: number;
  returnsExisting: number;
  userErrors: UserError[];
}
