import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import type { RouteHandler } from "@nexus/core";

/** The page's own files: HTML template, script, style, example operations. */
const PAGE_DIR = fileURLToPath(new URL("./", import.meta.url));

const require = createRequire(import.meta.url);
/** A file of an installed package, found from its package.json (their `exports` hide the rest). */
const packageFile = (name: string, file: string) =>
  join(dirname(require.resolve(`${name}/package.json`)), file);

/**
 * Everything the page loads, by the name the HTML template uses for it. The UMD builds are
 * self-contained: GraphiQL 3's bundle expects `window.React` and `window.ReactDOM` and needs
 * nothing else, so no bundler and no CDN is involved.
 */
const ASSETS = {
  "react.js": packageFile("react", "umd/react.production.min.js"),
  "react-dom.js": packageFile("react-dom", "umd/react-dom.production.min.js"),
  "graphiql.js": packageFile("graphiql", "graphiql.min.js"),
  "graphiql.css": packageFile("graphiql", "graphiql.min.css"),
  "page.js": join(PAGE_DIR, "page.js"),
  "page.css": join(PAGE_DIR, "page.css"),
} as const;

const CONTENT_TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

/**
 * Only the gateway's own origin, for everything: scripts, styles, and the GraphQL requests.
 * GraphiQL's stylesheet embeds its fonts and icons as data: URLs. No inline script or style
 * runs, so a value that found its way into the page could not execute.
 */
export const GRAPHIQL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** A year: asset paths carry a hash of their content, so a changed file has a new path. */
const IMMUTABLE = "public, max-age=31536000, immutable";

export type GraphiqlPageMode = "on" | "admin";

/** One example tab: a named operation whose variables have defaults, so it runs as it is. */
export interface GraphiqlExample {
  query: string;
}

/** Read by page.js from the page's `data-config` attribute: data, not code, so no inline script. */
export interface GraphiqlPageConfig {
  /** `admin`: GraphiQL opens only after an ADMIN account signs in. */
  mode: GraphiqlPageMode;
  /** The GraphQL endpoint, relative to the page, so a path prefix added by a proxy is kept. */
  endpoint: string;
  /** Sign-in, refresh and sign-out, one document, each sent with its operation name. */
  authDocument: string;
  examples: GraphiqlExample[];
}

/** The example operations preloaded as tabs, in file name order. */
export function readGraphiqlExamples(): GraphiqlExample[] {
  const dir = join(PAGE_DIR, "examples");
  return readdirSync(dir)
    .filter((file) => file.endsWith(".graphql"))
    .sort()
    .map((file) => ({ query: readFileSync(join(dir, file), "utf8") }));
}

/** The operations the page itself sends to sign in, refresh its token and sign out. */
export const readGraphiqlAuthDocument = (): string => readFileSync(join(PAGE_DIR, "auth.graphql"), "utf8");

interface Asset {
  path: string;
  contentType: string;
  body: Buffer;
  gzipped: Buffer;
}

/**
 * The routes of GraphiQL: the page at `/graphiql` and its assets at `/graphiql/<name>.<hash>.<ext>`.
 * Every file is read and compressed once, here, so a request never touches the disk.
 */
export function createGraphiqlRoutes(mode: GraphiqlPageMode): Record<string, RouteHandler> {
  const assets = new Map<string, Asset>();
  for (const [name, file] of Object.entries(ASSETS)) {
    const body = readFileSync(file);
    const hash = createHash("sha256").update(body).digest("hex").slice(0, 12);
    const extension = extname(name);
    assets.set(name, {
      path: `/graphiql/${name.slice(0, -extension.length)}.${hash}${extension}`,
      contentType: CONTENT_TYPES[extension] ?? "application/octet-stream",
      body,
      gzipped: gzipSync(body),
    });
  }

  const config: GraphiqlPageConfig = {
    mode,
    endpoint: "graphql",
    authDocument: readGraphiqlAuthDocument(),
    examples: readGraphiqlExamples(),
  };
  const html = Buffer.from(
    readFileSync(join(PAGE_DIR, "index.html"), "utf8")
      .replace("{{mode}}", mode)
      .replace(/\{\{asset:([\w.-]+)\}\}/g, (_match, name: string) => {
        const asset = assets.get(name);
        if (!asset) throw new Error(`graphiql/index.html names an unknown asset "${name}"`);
        // Relative to the page, like the endpoint.
        return asset.path.slice(1);
      })
      // Last, so that nothing in the examples is taken for a placeholder.
      .replace("{{config}}", () => escapeAttribute(JSON.stringify(config))),
  );

  const routes: Record<string, RouteHandler> = {
    "GET /graphiql": (_req, res) => {
      res.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "content-length": html.length,
        // The page is tiny and names the current asset hashes: always revalidated.
        "cache-control": "no-cache",
        "content-security-policy": GRAPHIQL_CSP,
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
      });
      res.end(html);
    },
    // Relative asset paths only work from `/graphiql`, so the other spelling is sent there.
    "GET /graphiql/": (_req, res) => {
      res.writeHead(308, { location: "../graphiql" });
      res.end();
    },
  };
  for (const asset of assets.values()) routes[`GET ${asset.path}`] = (req, res) => sendAsset(req, res, asset);
  return routes;
}

function sendAsset(req: IncomingMessage, res: ServerResponse, asset: Asset): void {
  const gzip = /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
  const body = gzip ? asset.gzipped : asset.body;
  res.writeHead(200, {
    "content-type": asset.contentType,
    "content-length": body.length,
    "cache-control": IMMUTABLE,
    "x-content-type-options": "nosniff",
    vary: "accept-encoding",
    ...(gzip ? { "content-encoding": "gzip" } : {}),
  });
  res.end(body);
}

/** Text for a double-quoted HTML attribute value. */
function escapeAttribute(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
