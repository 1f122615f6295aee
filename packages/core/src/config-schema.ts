import { z } from "zod";

/** Thrown when the environment holds a value the service cannot start with. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** The environment as a service receives it: variable names to raw strings. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Reads one variable, trimmed; an empty value counts as unset, so `PORT=` in a .env means the default. */
export type ReadVariable = (name: string) => string | undefined;

/** A default, or a function of other variables when the default depends on them (e.g. NODE_ENV). */
type Fallback<T> = T | ((read: ReadVariable) => T);

const readerOf =
  (vars: Env): ReadVariable =>
  (name) => {
    const value = vars[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };

const resolve = <T>(fallback: Fallback<T>, read: ReadVariable): T =>
  typeof fallback === "function" ? (fallback as (read: ReadVariable) => T)(read) : fallback;

/**
 * One environment variable as a schema. Every field of a config schema receives the whole
 * environment (`loadConfigFrom` arranges that), so a field names its variable once and a default
 * may depend on another variable. A bad value records a problem and yields the default, so the
 * checks that combine fields still see well-typed values and every problem is reported at once.
 */
function variable<T>(
  name: string,
  parse: (value: string | undefined, read: ReadVariable, problem: (message: string) => void) => T,
) {
  return z.custom<Env>().transform((vars, ctx): T => {
    const read = readerOf(vars);
    return parse(read(name), read, (message) => {
      ctx.issues.push({ code: "custom", message, input: vars[name], continue: true });
    });
  });
}

const TRUE = ["1", "true", "yes", "on"];
const FALSE = ["0", "false", "no", "off"];

/** Field builders for config schemas: each names its variable, its default and its rule once. */
export const env = {
  string(name: string, fallback: Fallback<string>) {
    return variable(name, (value, read) => value ?? resolve(fallback, read));
  },
  optionalString(name: string) {
    return variable(name, (value): string | undefined => value);
  },
  int(name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) {
    return variable(name, (value, _read, problem) => {
      if (value === undefined) return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        problem(`${name} must be an integer between ${min} and ${max}, got "${value}"`);
        return fallback;
      }
      return parsed;
    });
  },
  bool(name: string, fallback: Fallback<boolean>) {
    return variable(name, (raw, read, problem) => {
      const value = raw?.toLowerCase();
      if (value === undefined) return resolve(fallback, read);
      if (TRUE.includes(value)) return true;
      if (FALSE.includes(value)) return false;
      problem(`${name} must be true or false, got "${value}"`);
      return resolve(fallback, read);
    });
  },
  url(name: string, fallback: Fallback<string>, protocols: readonly string[]) {
    return variable(name, (raw, read, problem) => {
      const value = raw ?? resolve(fallback, read);
      try {
        const url = new URL(value);
        if (!protocols.includes(url.protocol)) {
          problem(`${name} must use ${protocols.join(" or ")}, got "${url.protocol}"`);
        }
      } catch {
        problem(`${name} must be a URL, got "${value}"`);
      }
      return value;
    });
  },
  oneOf<const T extends string>(name: string, fallback: NoInfer<T>, allowed: readonly T[]) {
    return variable(name, (value, _read, problem): T => {
      if (value === undefined) return fallback;
      if (!(allowed as readonly string[]).includes(value)) {
        problem(`${name} must be one of ${allowed.join(", ")}, got "${value}"`);
        return fallback;
      }
      return value as T;
    });
  },
};

/** What a config schema produces: the service's `Config` type, declared by the schema alone. */
export type ConfigOf<S extends z.ZodObject> = Readonly<z.output<S>>;

/**
 * Parses `vars` with `schema`, a `z.object` of `env.*` fields (nested objects allowed). Throws one
 * ConfigError listing every problem, single variables' first and then the rules that combine
 * them (`superRefine`), so an operator fixes a bad environment in one go. The result is frozen all
 * the way down: configuration is read once at start-up and never changes after.
 */
export function loadConfigFrom<S extends z.ZodObject>(schema: S, vars: Env): ConfigOf<S> {
  const result = schema.safeParse(inputFor(schema.shape, vars));
  if (!result.success) throw new ConfigError(result.error.issues.map((issue) => issue.message));
  return deepFreeze(result.data);
}

/** Every field gets the whole environment; a nested object gets an object shaped like itself. */
function inputFor(shape: z.ZodRawShape, vars: Env): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(shape).map(([key, field]) => [
      key,
      field instanceof z.ZodObject ? inputFor(field.shape, vars) : vars,
    ]),
  );
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
