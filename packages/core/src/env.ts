import { ConfigError, type Env, readerOf, variable } from "./config-schema.ts";

/**
 * The imperative form of the `env` fields in `config-schema.ts`, for code that reads a few
 * variables without a schema (the start script): the same rules, defaults and messages. Collects
 * every problem, and `done()` throws them all at once.
 */
export function createEnvReader(vars: Env) {
  const problems: string[] = [];
  const read = readerOf(vars);
  const problem = (message: string) => {
    problems.push(message);
  };
  return {
    string: (name: string, fallback: string): string => variable.string(name, fallback)(read, problem),
    optionalString: (name: string): string | undefined => read(name),
    int: (name: string, fallback: number, range?: { min?: number; max?: number }): number =>
      variable.int(name, fallback, range)(read, problem),
    bool: (name: string, fallback: boolean): boolean => variable.bool(name, fallback)(read, problem),
    url: (name: string, fallback: string, protocols: readonly string[]): string =>
      variable.url(name, fallback, protocols)(read, problem),
    oneOf: <T extends string>(name: string, fallback: T, allowed: readonly T[]): T =>
      variable.oneOf(name, fallback, allowed)(read, problem),
    /** Records a problem a single variable's check cannot see, e.g. two that contradict each other. */
    problem,
    /** Throws a ConfigError listing every problem seen so far. */
    done(): void {
      if (problems.length > 0) throw new ConfigError(problems);
    },
  };
}

export type EnvReader = ReturnType<typeof createEnvReader>;
