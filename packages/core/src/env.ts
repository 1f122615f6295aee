import { ConfigError, type Env } from "./config-schema.ts";

/**
 * The imperative form of the `env` fields in `config-schema.ts`, for code that reads a few
 * variables without a schema (the start script). Same defaults, rules and messages; collects
 * every problem, and `done()` throws them all at once.
 */
export function createEnvReader(env: Env) {
  const problems: string[] = [];
  const raw = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };

  return {
    string(name: string, fallback: string): string {
      return raw(name) ?? fallback;
    },
    optionalString(name: string): string | undefined {
      return raw(name);
    },
    int(name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
      const value = raw(name);
      if (value === undefined) return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        problems.push(`${name} must be an integer between ${min} and ${max}, got "${value}"`);
        return fallback;
      }
      return parsed;
    },
    bool(name: string, fallback: boolean): boolean {
      const value = raw(name)?.toLowerCase();
      if (value === undefined) return fallback;
      if (["1", "true", "yes", "on"].includes(value)) return true;
      if (["0", "false", "no", "off"].includes(value)) return false;
      problems.push(`${name} must be true or false, got "${value}"`);
      return fallback;
    },
    url(name: string, fallback: string, protocols: readonly string[]): string {
      const value = raw(name) ?? fallback;
      try {
        const url = new URL(value);
        if (!protocols.includes(url.protocol)) {
          problems.push(`${name} must use ${protocols.join(" or ")}, got "${url.protocol}"`);
        }
      } catch {
        problems.push(`${name} must be a URL, got "${value}"`);
      }
      return value;
    },
    oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
      const value = raw(name);
      if (value === undefined) return fallback;
      if (!(allowed as readonly string[]).includes(value)) {
        problems.push(`${name} must be one of ${allowed.join(", ")}, got "${value}"`);
        return fallback;
      }
      return value as T;
    },
    /** Records a problem a single variable's check cannot see, e.g. two that contradict each other. */
    problem(message: string): void {
      problems.push(message);
    },
    /** Throws a ConfigError listing every problem seen so far. */
    done(): void {
      if (problems.length > 0) throw new ConfigError(problems);
    },
  };
}

export type EnvReader = ReturnType<typeof createEnvReader>;
