import { connectMongo } from "@nexus/stores";
import type { TestProject } from "vitest/node";

/**
 * Runs once per test run: uses MongoDB at MONGO_URL when one answers, else starts the
 * embedded server, and hands its URL to every test file.
 */
export default async function setup(project: TestProject) {
  const mongo = await connectMongo({
    url: process.env.MONGO_URL ?? "mongodb://127.0.0.1:27017/",
    database: "admin",
    embeddedFallback: true,
  });
  project.provide("mongoUrl", mongo.url);
  return () => mongo.close();
}
