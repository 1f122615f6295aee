/**
 * A bare `@apollo/gateway` in `@apollo/server`, the baseline the Nexus gateway is measured
 * against: it plans and fetches, with no policy at all. Run as its own process so it can be
 * pinned to a core: `SUPERGRAPH_PATH=... PORT=... node tools/src/bench-gateway/bare-gateway.ts`.
 */
import { readFileSync } from "node:fs";
import { ApolloGateway } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";

const supergraphPath = process.env.SUPERGRAPH_PATH;
const port = Number(process.env.PORT);
if (!supergraphPath || !Number.isInteger(port) || port <= 0) {
  throw new Error("bare-gateway needs SUPERGRAPH_PATH and PORT (a positive integer)");
}
const server = new ApolloServer({
  gateway: new ApolloGateway({ supergraphSdl: readFileSync(supergraphPath, "utf8") }),
});
const { url } = await startStandaloneServer(server, { listen: { host: "127.0.0.1", port } });
console.log(`bare gateway at ${url}`);
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => void server.stop().then(() => process.exit(0)));
}
