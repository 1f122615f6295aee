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

/** Reads what it needs, records each bad value with `problem`, and still returns a usable value. */
export type VariableRule<T> = (read: ReadVariable, problem: (message: string) => void) => T;

/** A default, or a function of other variables when the default depends on them (e.g. NODE_ENV). */
type Fallback<T> = T | ((read: ReadVariable) => T);

export function readerOf(vars: Env): ReadVariable {
  return (name) => {
    const value = vars[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
}

const resolve = <T>(fallback: Fallback<T>, read: ReadVariable): T =>
  typeof fallback === "function" ? (fallback as (read: ReadVariable) => T)(read) : fallback;

const TRUE = ["1", "true", "yes", "on"];
const FALSE = ["0", "false", "no", "off"];

/**
 * The rule for each kind of variable, with today's messages: a bad value records a problem and
 * yields the default, so the checks that combine variables still see well-typed values and every
 * problem is reported at once.
 */
export const variable = {
  string:
    (name: string, fallback: Fallback<string>): VariableRule<string> =>
    (read) =>
      read(name) ?? resolve(fallback, read),
  optionalString:
    (name: string): VariableRule<string | undefined> =>
    (read) =>
      read(name),
  int:
    (name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): VariableRule<number> =>
    (read, problem) => {
      const value = read(name);
      if (value === undefined) return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        problem(`${name} must be an integer between ${min} and ${max}, got "${value}"`);
        return fallback;
      }
      return parsed;
    },
  bool:
    (name: string, fallback: Fallback<boolean>): VariableRule<boolean> =>
    (read, problem) => {
      const value = read(name)?.toLowerCase();
      if (value === undefined) return resolve(fallback, read);
      if (TRUE.includes(value)) return true;
      if (FALSE.includes(value)) return false;
      problem(`${name} must be true or false, got "${value}"`);
      return resolve(fallback, read);
    },
  url:
    (name: string, fallback: Fallback<string>, protocols: readonly string[]): VariableRule<string> =>
    (read, problem) => {
      const value = read(name) ?? resolve(fallback, read);
      try {
        const url = new URL(value);
        if (!protocols.includes(url.protocol)) {
          problem(`${name} must use ${protocols.join(" or ")}, got "${url.protocol}"`);
        }
      } catch {
        problem(`${name} must be a URL, got "${value}"`);
      }
      return value;
    },
  oneOf:
    <const T extends string>(
      name: string,
      fallback: Fallback<NoInfer<T>>,
      allowed: readonly T[],
    ): VariableRule<T> =>
    (read, problem) => {
      const value = read(name);
      if (value === undefined) return resolve(fallback, read);
      if (!(allowed as readonly string[]).includes(value)) {
        problem(`${name} must be one of ${allowed.join(", ")}, got "${value}"`);
        return resolve(fallback, read);
      }
      return value as T;
    },
};

/**
 * A config schema field. Every field receives the whole environment (`loadConfigFrom` arranges
 * that), so a field names its variable once and a default may depend on another variable.
 * A problem is marked `continue`, so zod still runs the rules that combine fields.
 */
function field<T>(rule: VariableRule<T>) {
  return z.custom<Env>().transform(
    (vars, ctx): T =>
      rule(readerOf(vars), (message) => {
        ctx.issues.push({ code: "custom", message, input: vars, continue: true });
      }),
  );
}

/** Field builders for config schemas: each names its variable, its default and its rule once. */
export const env = {
  string: (name: string, fallback: Fallback<string>) => field(variable.string(name, fallback)),
  optionalString: (name: string) => field(variable.optionalString(name)),
  int: (name: string, fallback: number, range?: { min?: number; max?: number }) =>
    field(variable.int(name, fallback, range)),
  bool: (name: string, fallback: Fallback<boolean>) => field(variable.bool(name, fallback)),
  url: (name: string, fallback: Fallback<string>, protocols: readonly string[]) =>
    field(variable.url(name, fallback, protocols)),
  oneOf: <const T extends string>(name: string, fallback: Fallback<NoInfer<T>>, allowed: readonly T[]) =>
    field(variable.oneOf(name, fallback, allowed)),
  /** A field no single-variable builder expresses, e.g. one that reads a variable per subgraph. */
  field,
};

/** A `z.object` of fields with its rules (`superRefine`), possibly reshaped by a last `transform`. */
export type ConfigSchema = z.ZodObject | z.ZodPipe<z.ZodObject, z.ZodType>;

/** What a config schema produces: the service's `Config` type, declared by the schema alone. */
export type ConfigOf<S extends z.ZodType> = Readonly<z.output<S>>;

/**
 * Parses `vars` with `schema`, a `z.object` of `env.*` fields (nested objects allowed). Throws one
 * ConfigError listing every problem, the fields' in the order they are declared and then the
 * rules that combine them (`superRefine`), so an operator fixes a bad environment in one go. The
 * result is frozen all the way down: configuration is read once at start-up and never changes.
 */
export function loadConfigFrom<S extends ConfigSchema>(schema: S, vars: Env): ConfigOf<S> {
  const object: z.ZodObject = schema instanceof z.ZodObject ? schema : schema.in;
  const result = schema.safeParse(inputFor(object.shape, vars));
  if (!result.success) throw new ConfigError(result.error.issues.map((issue) => issue.message));
  return deepFreeze(result.data as ConfigOf<S>);
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
