/**
 * Runs generated operations against a gateway as four kinds of client and checks every answer
 * (check.ts). Case `i` of seed `s` is always the same request (random.ts `caseSeed`), so a
 * failure is replayed with `pnpm fuzz --seed s --case i`, whatever ran before it.
 *
 * Besides the operation itself, a case varies how it is sent, as real clients do: POST or GET,
 * `operationName` given, left out or naming no operation, automatic persisted queries with the
 * right or a wrong hash. Partners (API key) run under persisted-operation rules: mostly their
 * own persisted operations by id with generated variables, sometimes freeform text, which the
 * gateway must refuse with a well-formed 4xx.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { type GraphQLSchema, getOperationAST, parse } from "graphql";
import type { PersistedQueryManifest, PersistedQueryManifestOperation } from "../persisted-query-manifest.ts";
import { repoRoot } from "../subgraphs.ts";
import { type CheckedResponse, checkResponse } from "./check.ts";
import { createOperationGenerator, type GeneratorLimits, type OperationGenerator } from "./generate.ts";
import { caseSeed, createRandom, type Random } from "./random.ts";
import type { KnownValues } from "./values.ts";

export const FUZZ_ROLES = ["anonymous", "customer", "partner", "admin"] as const;
export type FuzzRole = (typeof FUZZ_ROLES)[number];

/** The headers that make a request come from `role`; called for every case, so tokens stay fresh. */
export type Credentials = (role: FuzzRole) => Promise<Record<string, string>>;

export interface FuzzRequest {
  method: "GET" | "POST";
  /** The JSON body of a POST, or the query string parameters of a GET. */
  payload: Record<string, unknown>;
}

export interface FuzzCase {
  seed: number;
  index: number;
  role: FuzzRole;
  /** Root fields of the operation ("(persisted) ProductFeed" for a partner's id). */
  rootFields: string[];
  /** How the request differs from a plain POST, e.g. "GET", "operationName wrong", "APQ wrong hash". */
  envelope: string[];
  document: string | null;
  variables: Record<string, unknown>;
  values: string[];
  request: FuzzRequest;
}

export interface FuzzResult {
  fuzzCase: FuzzCase;
  response: CheckedResponse;
  /** The body as received, kept only for failures. */
  body: string | null;
}

export interface FuzzRunOptions {
  endpoint: string;
  schema: GraphQLSchema;
  known: KnownValues;
  credentials: Credentials;
  seed: number;
  count: number;
  /** Run only these case indexes (a replay); default 0 .. count - 1. */
  cases?: readonly number[];
  concurrency?: number;
  limits?: GeneratorLimits;
  /** The partner's persisted operations; default schema/operations/demo-partner. */
  partnerManifest?: PersistedQueryManifest;
  onResult?: (result: FuzzResult) => void;
}

export interface FuzzReport {
  seed: number;
  results: FuzzResult[];
  failures: FuzzResult[];
}

const REQUEST_TIMEOUT_MS = 30_000;
/** Node refuses request lines over 16 KiB before any GraphQL is involved; GETs stay well under. */
const MAX_GET_URL = 6000;

export function readDemoPartnerManifest(): PersistedQueryManifest {
  return JSON.parse(
    readFileSync(`${repoRoot}schema/operations/demo-partner/persisted-query-manifest.json`, "utf8"),
  ) as PersistedQueryManifest;
}

/** Builds case `index` of `seed`: the role, the operation and how it is sent. */
export function buildCase(
  generator: OperationGenerator,
  manifest: PersistedQueryManifest,
  seed: number,
  index: number,
): FuzzCase {
  const random = createRandom(caseSeed(seed, index));
  const roll = random.next();
  const role: FuzzRole =
    roll < 0.25 ? "anonymous" : roll < 0.55 ? "customer" : roll < 0.7 ? "partner" : "admin";
  if (role === "partner" && random.chance(0.75) && manifest.operations.length > 0)
    return persistedCase(generator, random, manifest, seed, index);

  const operation = generator.operation(random);
  const envelope: string[] = [];
  const payload: Record<string, unknown> = { query: operation.document, variables: operation.variables };
  const nameRoll = random.next();
  if (nameRoll < 0.7) payload.operationName = operation.operationName;
  else if (nameRoll < 0.95) envelope.push("operationName left out");
  else {
    payload.operationName = "NoSuchOperation";
    envelope.push("operationName wrong");
  }
  const apqRoll = random.next();
  const hash = createHash("sha256").update(operation.document).digest("hex");
  if (apqRoll < 0.04) {
    payload.extensions = { persistedQuery: { version: 1, sha256Hash: hash } };
    envelope.push("APQ with its hash");
  } else if (apqRoll < 0.06) {
    payload.extensions = { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } };
    envelope.push("APQ wrong hash");
  } else if (apqRoll < 0.08) {
    delete payload.query;
    payload.extensions = { persistedQuery: { version: 1, sha256Hash: hash } };
    envelope.push("APQ hash only");
  }
  let method: "GET" | "POST" = "POST";
  if (operation.kind === "query" && random.chance(0.1) && getUrl("", payload).length < MAX_GET_URL) {
    method = "GET";
    envelope.push("GET");
  }
  return {
    seed,
    index,
    role,
    rootFields: operation.rootFields,
    envelope,
    document: operation.document,
    variables: operation.variables,
    values: operation.values,
    request: { method, payload },
  };
}

/** A partner's own operation by id, with generated variables; now and then its text instead. */
function persistedCase(
  generator: OperationGenerator,
  random: Random,
  manifest: PersistedQueryManifest,
  seed: number,
  index: number,
): FuzzCase {
  const persisted: PersistedQueryManifestOperation = random.pick(manifest.operations);
  const definition = getOperationAST(parse(persisted.body), persisted.name);
  if (!definition) throw new Error(`the manifest's ${persisted.name} has no such operation`);
  const { variables, values } = generator.variablesFor(definition, random);
  const byText = random.chance(0.1);
  const payload: Record<string, unknown> = {
    variables,
    extensions: { persistedQuery: { version: 1, sha256Hash: persisted.id } },
  };
  if (byText) {
    payload.query = persisted.body;
    delete payload.extensions;
  }
  return {
    seed,
    index,
    role: "partner",
    rootFields: [`(persisted) ${persisted.name}`],
    envelope: byText ? ["persisted operation's text instead of its id"] : ["persisted id"],
    document: persisted.body,
    variables,
    values,
    request: { method: "POST", payload },
  };
}

function getUrl(endpoint: string, payload: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(payload))
    params.set(key, typeof value === "string" ? value : JSON.stringify(value));
  return `${endpoint}?${params}`;
}

async function send(endpoint: string, fuzzCase: FuzzCase, headers: Record<string, string>) {
  const { method, payload } = fuzzCase.request;
  const init: RequestInit =
    method === "GET"
      ? { method, headers: { ...headers, "apollo-require-preflight": "true" } }
      : {
          method,
          headers: { ...headers, "content-type": "application/json" },
          body: JSON.stringify(payload),
        };
  const url = method === "GET" ? getUrl(endpoint, payload) : endpoint;
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const text = await response.text();
    return { status: response.status, contentType: response.headers.get("content-type"), text };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { status: 0, contentType: null, text: `no answer: ${reason}` };
  }
}

export async function runFuzz(options: FuzzRunOptions): Promise<FuzzReport> {
  const generator = createOperationGenerator(options.schema, options.known, options.limits);
  const manifest = options.partnerManifest ?? readDemoPartnerManifest();
  const indexes = options.cases ?? Array.from({ length: options.count }, (_, index) => index);
  const results: FuzzResult[] = new Array(indexes.length);
  let next = 0;
  const worker = async () => {
    while (next < indexes.length) {
      const position = next++;
      const fuzzCase = buildCase(generator, manifest, options.seed, indexes[position] as number);
      const headers = await options.credentials(fuzzCase.role);
      const answer = await send(options.endpoint, fuzzCase, headers);
      const response =
        answer.status === 0
          ? { status: 0, codes: [], message: answer.text, hasData: false, problems: [answer.text] }
          : checkResponse(answer.status, answer.contentType, answer.text);
      const result = { fuzzCase, response, body: response.problems.length > 0 ? answer.text : null };
      results[position] = result;
      options.onResult?.(result);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  return {
    seed: options.seed,
    results,
    failures: results.filter((result) => result.response.problems.length > 0),
  };
}
