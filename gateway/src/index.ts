import { runGateway } from "./cluster.ts";

await runGateway();
