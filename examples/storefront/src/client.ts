/**
 * The storefront's whole GraphQL client: one POST per operation, typed by the document the
 * client preset generated. A fetch wrapper is enough for a server-side or scripted client; an
 * app that caches and re-renders would hand the same documents to Apollo Client or urql.
 */
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { createClient as createSseClient } from "graphql-sse";

/** An error the gateway answered with, as GraphQL-over-HTTP carries it. */
export interface GraphQLErrorBody {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string };
}

/** A request the gateway refused or failed, with its codes for callers to branch on. */
export class StorefrontRequestError extends Error {
  readonly status: number;
  readonly errors: GraphQLErrorBody[];

  constructor(operation: string, status: number, errors: GraphQLErrorBody[]) {
    const details = errors
      .map((error) => `${error.extensions?.code ?? "ERROR"}: ${error.message}`)
      .join("; ");
    super(`${operation} failed (HTTP ${status}): ${details || "no data in the response"}`);
    this.name = "StorefrontRequestError";
    this.status = status;
    this.errors = errors;
  }

  /** The first error's code, e.g. UNAUTHENTICATED or BAD_USER_INPUT. */
  get code(): string | undefined {
    return this.errors[0]?.extensions?.code;
  }
}

export interface RequestOptions {
  /** The signed-in customer's access token; anonymous without one. */
  accessToken?: string | null;
  signal?: AbortSignal;
}

export interface StorefrontClient {
  readonly endpoint: string;
  request<Result, Variables extends Record<string, unknown>>(
    document: TypedDocumentNode<Result, Variables>,
    variables: Variables,
    options?: RequestOptions,
  ): Promise<Result>;
  /**
   * A subscription over GraphQL over Server-Sent Events (`POST <endpoint>/stream`, the
   * graphql-sse protocol): each payload as it comes, until the server completes it or the caller
   * stops iterating (`break`, or `return()` on the iterator).
   */
  subscribe<Result, Variables extends Record<string, unknown>>(
    document: TypedDocumentNode<Result, Variables>,
    variables: Variables,
    options?: RequestOptions,
  ): AsyncGenerator<Result, void, undefined>;
}

export interface ClientOptions {
  /** The gateway's GraphQL endpoint, e.g. http://localhost:4000/graphql. */
  endpoint: string;
  /** The app's name and version: the gateway's metrics and logs are broken down by them. */
  name: string;
  version: string;
  /** Another fetch (retries, tracing, a test double of the network); the global one by default. */
  fetch?: typeof fetch;
}

export function createClient(options: ClientOptions): StorefrontClient {
  const endpoint = parseEndpoint(options.endpoint);
  if (!options.name.trim() || !options.version.trim()) {
    throw new Error("The client needs a name and a version: the gateway reports traffic by them");
  }
  const send = options.fetch ?? fetch;
  // Printed once per document: the generated documents are module constants.
  const printed = new WeakMap<object, { query: string; name: string }>();

  async function request<Result, Variables extends Record<string, unknown>>(
    document: TypedDocumentNode<Result, Variables>,
    variables: Variables,
    requestOptions: RequestOptions = {},
  ): Promise<Result> {
    let source = printed.get(document);
    if (!source) {
      source = { query: print(document), name: operationName(document) };
      printed.set(document, source);
    }
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
      "apollographql-client-name": options.name,
      "apollographql-client-version": options.version,
    };
    if (requestOptions.accessToken) headers.authorization = `Bearer ${requestOptions.accessToken}`;
    const response = await send(endpoint, {
      method: "POST",
      headers,
      body: JSON.stringify({ query: source.query, variables, operationName: source.name }),
      ...(requestOptions.signal ? { signal: requestOptions.signal } : {}),
    });
    const body = await readBody(response, source.name);
    if (body.errors?.length || body.data === undefined || body.data === null) {
      throw new StorefrontRequestError(source.name, response.status, body.errors ?? []);
    }
    // The document's type is the contract: codegen checked the operation against the schema.
    return body.data as Result;
  }

  async function* subscribe<Result, Variables extends Record<string, unknown>>(
    document: TypedDocumentNode<Result, Variables>,
    variables: Variables,
    requestOptions: RequestOptions = {},
  ): AsyncGenerator<Result, void, undefined> {
    const name = operationName(document);
    const sse = createSseClient({
      url: `${endpoint.replace(/\/$/, "")}/stream`,
      headers: {
        "apollographql-client-name": options.name,
        "apollographql-client-version": options.version,
        ...(requestOptions.accessToken ? { authorization: `Bearer ${requestOptions.accessToken}` } : {}),
      },
      fetchFn: send,
    });
    const results = sse.iterate<Result>({ query: print(document), variables, operationName: name });
    const abort = () => void results.return?.();
    requestOptions.signal?.addEventListener("abort", abort, { once: true });
    try {
      for await (const result of results) {
        if (result.errors?.length || result.data === undefined || result.data === null) {
          const errors = (result.errors ?? []).map(
            (error): GraphQLErrorBody => ({
              message: error.message,
              ...(error.path ? { path: [...error.path] } : {}),
              ...(typeof error.extensions?.code === "string"
                ? { extensions: { code: error.extensions.code } }
                : {}),
            }),
          );
          throw new StorefrontRequestError(name, 200, errors);
        }
        yield result.data;
      }
      requestOptions.signal?.throwIfAborted();
    } finally {
      requestOptions.signal?.removeEventListener("abort", abort);
      await results.return?.();
      sse.dispose();
    }
  }

  return { endpoint, request, subscribe };
}

function parseEndpoint(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`The gateway URL must be an absolute http(s) URL, got "${value}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`The gateway URL must use http or https, got "${value}"`);
  }
  return url.toString();
}

function operationName(document: TypedDocumentNode<unknown, never>): string {
  for (const definition of document.definitions) {
    if (definition.kind === "OperationDefinition" && definition.name) return definition.name.value;
  }
  throw new Error("Every storefront operation has a name: the gateway's logs and limits use it");
}

async function readBody(
  response: Response,
  operation: string,
): Promise<{ data?: unknown; errors?: GraphQLErrorBody[] }> {
  const text = await response.text();
  try {
    return JSON.parse(text) as { data?: unknown; errors?: GraphQLErrorBody[] };
  } catch {
    throw new StorefrontRequestError(operation, response.status, [
      { message: `the gateway did not answer JSON: ${text.slice(0, 200)}` },
    ]);
  }
}
