export * from "./catcher.ts";
export * from "./transport.ts";
