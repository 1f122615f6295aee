/**
 * CI guard: fails when the generated resolver types differ from what `pnpm codegen`
 * writes now, i.e. someone changed an SDL or codegen.ts without regenerating.
 */
import { execFileSync } from "node:child_process";
import { repoRoot } from "./subgraphs.ts";

execFileSync("pnpm", ["codegen", "--silent"], { cwd: repoRoot, stdio: "inherit" });
const changed = execFileSync("git", ["status", "--porcelain", "--", "subgraphs/*/src/__generated__"], {
  cwd: repoRoot,
  encoding: "utf8",
}).trim();
if (changed) {
  console.error(`Generated files are stale: run \`pnpm codegen\` and commit the result.\n${changed}`);
  process.exit(1);
}
console.log("Generated resolver types are up to date.");
