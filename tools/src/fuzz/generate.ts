/**
 * Random operations that are valid against the API schema: any root fields, random arguments
 * of the right types (values.ts), random selections down to the gateway's depth limit, within
 * its alias limit and roughly within its cost limit, so most of them run rather than being
 * refused at the edge. A small share goes one step over a limit on purpose, so the refusals
 * are exercised too. Arguments are inline literals, variables, or both in one operation (a
 * variable deep inside an inline input object).
 */
import {
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  print,
  typeFromAST,
} from "graphql";
import type { Random } from "./random.ts";
import { type KnownValues, scalarValue } from "./values.ts";

export type OperationKind = "query" | "mutation";

export interface FuzzOperation {
  kind: OperationKind;
  operationName: string;
  document: string;
  variables: Record<string, unknown>;
  rootFields: string[];
  /** `coordinate = kind` for every argument value, e.g. `Query.products(first) = int.max`. */
  values: string[];
}

export interface GeneratorLimits {
  /** The gateway's MAX_DEPTH (a root field is depth 1). */
  maxDepth: number;
  /** The gateway's MAX_ALIASES. */
  maxAliases: number;
  /** The gateway's MAX_COST; the generator's own estimate is close to, not exactly, the gateway's. */
  maxCost: number;
}

/** The gateway's defaults (gateway/README.md, Limits). */
export const GATEWAY_LIMITS: GeneratorLimits = { maxDepth: 15, maxAliases: 30, maxCost: 1500 };

export interface OperationGenerator {
  /** One operation; `kind` defaults to a query or a mutation at random. */
  operation(random: Random, options?: { kind?: OperationKind; name?: string }): FuzzOperation;
  /** Variables for an existing operation's definitions (a persisted operation's, for partners). */
  variablesFor(
    operation: OperationDefinitionNode,
    random: Random,
  ): { variables: Record<string, unknown>; values: string[] };
}

type ArgumentMode = "inline" | "variables" | "mixed";

/** One operation under construction. */
interface Build {
  random: Random;
  mode: ArgumentMode;
  variableDefinitions: string[];
  variables: Record<string, unknown>;
  values: string[];
  aliases: number;
  maxAliases: number;
  cost: number;
  maxCost: number;
  maxDepth: number;
  /** Prefer object fields over scalars, and single objects over lists, to reach the depth limit. */
  deep: boolean;
}

const DEFAULT_LIST_SIZE = 10;

export function createOperationGenerator(
  schema: GraphQLSchema,
  known: KnownValues,
  limits: GeneratorLimits = GATEWAY_LIMITS,
): OperationGenerator {
  const json = (build: Build, type: GraphQLInputType, name: string, path: string): unknown => {
    const { random } = build;
    if (!isNonNullType(type) && random.chance(0.1)) {
      build.values.push(`${path} = null`);
      return null;
    }
    const nullable = getNullableType(type);
    if (isListType(nullable)) {
      // A single value where a list is expected is valid GraphQL: it is coerced to a list of one.
      if (random.chance(0.1)) return json(build, nullable.ofType, name, `${path}[single]`);
      const length = random.chance(0.9) ? random.int(0, 3) : random.int(10, 60);
      if (length === 0) build.values.push(`${path} = list.empty`);
      return Array.from({ length }, (_, index) => json(build, nullable.ofType, name, `${path}[${index}]`));
    }
    if (isInputObjectType(nullable)) {
      const value: Record<string, unknown> = {};
      for (const field of Object.values(nullable.getFields())) {
        const required = isNonNullType(field.type) && field.defaultValue === undefined;
        if (required || random.chance(0.5))
          value[field.name] = json(build, field.type, field.name, `${path}.${field.name}`);
      }
      return value;
    }
    if (isEnumType(nullable)) {
      const value = random.pick(nullable.getValues()).name;
      build.values.push(`${path} = enum.${value}`);
      return value;
    }
    const generated = scalarValue(nullable.name, { random, known, inline: false, name });
    build.values.push(`${path} = ${generated.kind}`);
    return generated.value;
  };

  /** Declares a variable for this position and returns `$name`. */
  const variable = (build: Build, type: GraphQLInputType, name: string, path: string): string => {
    const variableName = `v${build.variableDefinitions.length}`;
    const value = json(build, type, name, path);
    build.variableDefinitions.push(`$${variableName}: ${String(type)}`);
    // A nullable variable left out of `variables` is null too, by another route.
    if (value !== null || build.random.chance(0.5)) build.variables[variableName] = value;
    return `$${variableName}`;
  };

  const literal = (
    build: Build,
    type: GraphQLInputType,
    name: string,
    path: string,
    hoistable = true,
  ): string => {
    const { random } = build;
    if (hoistable && (build.mode === "variables" || (build.mode === "mixed" && random.chance(0.3))))
      return variable(build, type, name, path);
    if (!isNonNullType(type) && random.chance(0.1)) {
      build.values.push(`${path} = null`);
      return "null";
    }
    const nullable = getNullableType(type);
    if (isListType(nullable)) {
      // A variable of the item type cannot stand for the list, so the single value is a literal.
      if (random.chance(0.1)) return literal(build, nullable.ofType, name, `${path}[single]`, false);
      const length = random.chance(0.9) ? random.int(0, 3) : random.int(10, 60);
      if (length === 0) build.values.push(`${path} = list.empty`);
      const items = Array.from({ length }, (_, index) =>
        literal(build, nullable.ofType, name, `${path}[${index}]`),
      );
      return `[${items.join(", ")}]`;
    }
    if (isInputObjectType(nullable)) {
      const fields: string[] = [];
      for (const field of Object.values(nullable.getFields())) {
        const required = isNonNullType(field.type) && field.defaultValue === undefined;
        if (required || random.chance(0.5))
          fields.push(`${field.name}: ${literal(build, field.type, field.name, `${path}.${field.name}`)}`);
      }
      return `{${fields.join(", ")}}`;
    }
    if (isEnumType(nullable)) {
      const value = random.pick(nullable.getValues()).name;
      build.values.push(`${path} = enum.${value}`);
      return value;
    }
    const generated = scalarValue(nullable.name, { random, known, inline: true, name });
    build.values.push(`${path} = ${generated.kind}`);
    return printScalar(generated.value);
  };

  /** The field's arguments as text, and the `first` it was given, which sizes its list. */
  const fieldArguments = (
    build: Build,
    field: GraphQLField<unknown, unknown>,
    coordinate: string,
  ): { text: string; first: number | null } => {
    const parts: string[] = [];
    let first: number | null = null;
    for (const argument of field.args) {
      if (!isRequired(argument) && build.random.chance(0.4)) continue;
      const text = literal(build, argument.type, argument.name, `${coordinate}(${argument.name})`);
      parts.push(`${argument.name}: ${text}`);
      if (argument.name === "first") first = sizeFrom(build, text);
    }
    return { text: parts.length > 0 ? `(${parts.join(", ")})` : "", first };
  };

  /** Undo everything since a checkpoint: a field left out must leave no variable behind. */
  const checkpoint = (build: Build) => {
    const definitions = build.variableDefinitions.length;
    const values = build.values.length;
    const variables = Object.keys(build.variables);
    const { aliases, cost } = build;
    return () => {
      build.variableDefinitions.length = definitions;
      build.values.length = values;
      for (const key of Object.keys(build.variables))
        if (!variables.includes(key)) delete build.variables[key];
      build.aliases = aliases;
      build.cost = cost;
    };
  };

  const selectionSet = (
    build: Build,
    type: GraphQLNamedType,
    depth: number,
    multiplier: number,
    sizedBy: number | null,
  ): string => {
    const { random } = build;
    if (isAbstractType(type)) {
      const parts = ["__typename"];
      const chosen: GraphQLObjectType[] = [];
      for (const possible of schema.getPossibleTypes(type)) {
        if (!random.chance(0.5)) continue;
        // One field name must return one type across the fragments (`node`'s User.countryCode
        // and TaxRate.countryCode differ), or the operation is invalid: such types go apart.
        if (chosen.some((other) => fieldTypesClash(other, possible))) continue;
        chosen.push(possible);
        parts.push(`... on ${possible.name} ${selectionSet(build, possible, depth, multiplier, sizedBy)}`);
      }
      return `{ ${parts.join(" ")} }`;
    }
    if (!isObjectType(type)) return "{ __typename }";
    const fields = Object.values(type.getFields());
    const ordered = build.deep
      ? [...random.shuffle(fields)].sort((a, b) => deepRank(a) - deepRank(b))
      : random.shuffle(fields);
    const wanted = build.deep ? random.int(1, 2) : random.int(1, Math.min(5, fields.length));
    const selections: string[] = [];
    for (const field of ordered) {
      if (selections.length >= wanted) break;
      const selection = fieldSelection(build, type.name, field, depth, multiplier, sizedBy);
      if (selection) selections.push(selection);
    }
    if (selections.length === 0 || random.chance(0.05)) selections.push("__typename");
    // An inline fragment on the type itself, or a condition, now and then: the same fields by
    // another road, which the limits and the access control must follow.
    if (random.chance(0.05)) return `{ ... on ${type.name} { ${selections.join(" ")} } }`;
    return `{ ${selections.join(" ")} }`;
  };

  const fieldSelection = (
    build: Build,
    parent: string,
    field: GraphQLField<unknown, unknown>,
    depth: number,
    multiplier: number,
    sizedBy: number | null,
    forceAlias = false,
  ): string | null => {
    const { random } = build;
    const named = getNamedType(field.type);
    const leaf = isLeafType(named);
    if (!leaf && depth >= build.maxDepth) return null;
    const rollback = checkpoint(build);
    let alias = "";
    if (forceAlias || (build.aliases < build.maxAliases && random.chance(0.1))) {
      build.aliases += 1;
      alias = `a${build.aliases}: `;
    }
    const { text, first } = fieldArguments(build, field, `${parent}.${field.name}`);
    const condition = random.chance(0.03) ? ` ${includeOrSkip(build)}` : "";
    if (leaf) return `${alias}${field.name}${text}${condition}`;

    const list = isListType(getNullableType(field.type));
    const size =
      (list && (field.name === "edges" || field.name === "nodes") ? sizedBy : null) ??
      (list ? (first ?? DEFAULT_LIST_SIZE) : 1);
    const count = multiplier * Math.max(0, size);
    if (build.cost + Math.max(count, 1) > build.maxCost) {
      rollback();
      return null;
    }
    build.cost += Math.max(count, 1);
    const childSizedBy = field.args.some((argument) => argument.name === "first")
      ? (first ?? DEFAULT_LIST_SIZE)
      : null;
    const selections = selectionSet(build, named, depth + 1, Math.max(count, 1), childSizedBy);
    return `${alias}${field.name}${text}${condition} ${selections}`;
  };

  const includeOrSkip = (build: Build): string => {
    const name = build.random.pick(["include", "skip"]);
    if (build.mode !== "inline" && build.random.chance(0.5)) {
      const variableName = `v${build.variableDefinitions.length}`;
      build.variableDefinitions.push(`$${variableName}: Boolean!`);
      build.variables[variableName] = build.random.chance(0.5);
      return `@${name}(if: $${variableName})`;
    }
    return `@${name}(if: ${build.random.chance(0.5)})`;
  };

  /** The root field list of one operation: usually a few fields, sometimes an alias flood. */
  const rootSelections = (build: Build, kind: OperationKind): { text: string; rootFields: string[] } => {
    const { random } = build;
    const root = kind === "query" ? schema.getQueryType() : schema.getMutationType();
    if (!root) throw new Error(`the schema has no ${kind} type`);
    const fields = Object.values(root.getFields());
    const selections: string[] = [];
    const rootFields: string[] = [];
    const add = (field: GraphQLField<unknown, unknown>, aliased: boolean) => {
      const selection = fieldSelection(build, root.name, field, 1, 1, null, aliased);
      if (!selection) return;
      selections.push(selection);
      rootFields.push(field.name);
    };
    if (random.chance(0.03)) {
      // The alias limit at its value, or one over it.
      const field = random.pick(fields);
      const copies = random.chance(0.7) ? random.int(2, build.maxAliases) : build.maxAliases + 1;
      // Only the copies carry aliases, so the count is exactly what this case is testing.
      build.maxAliases = 0;
      for (let index = 0; index < copies; index++) add(field, true);
    } else {
      const count = kind === "mutation" && random.chance(0.75) ? 1 : random.int(1, 3);
      for (const field of random.shuffle(fields).slice(0, count)) add(field, random.chance(0.15));
    }
    if (selections.length === 0) {
      selections.push("__typename");
      rootFields.push("__typename");
    }
    return { text: selections.join("\n  "), rootFields };
  };

  return {
    operation(random, options = {}) {
      const kind = options.kind ?? (random.chance(0.6) ? "query" : "mutation");
      const operationName = options.name ?? "Fuzz";
      const overLimit = random.chance(0.03);
      const deep = random.chance(0.1);
      const build: Build = {
        random,
        mode: random.pick(["inline", "variables", "mixed"] as const),
        variableDefinitions: [],
        variables: {},
        values: [],
        aliases: 0,
        maxAliases: limits.maxAliases,
        cost: kind === "mutation" ? 10 : 0,
        // Mostly within the cost limit, now and then far over it.
        maxCost: overLimit ? limits.maxCost * 10 : random.int(20, limits.maxCost),
        // Deep dives reach the depth limit, a few go one past it.
        maxDepth:
          deep && random.chance(0.2) ? limits.maxDepth + 1 : deep ? limits.maxDepth : random.int(2, 8),
        deep,
      };
      const { text, rootFields } = rootSelections(build, kind);
      const definitions =
        build.variableDefinitions.length > 0 ? `(${build.variableDefinitions.join(", ")})` : "";
      return {
        kind,
        operationName,
        document: `${kind} ${operationName}${definitions} {\n  ${text}\n}`,
        variables: build.variables,
        rootFields,
        values: build.values,
      };
    },
    variablesFor(operation, random) {
      const build: Build = {
        random,
        mode: "variables",
        variableDefinitions: [],
        variables: {},
        values: [],
        aliases: 0,
        maxAliases: limits.maxAliases,
        cost: 0,
        maxCost: limits.maxCost,
        maxDepth: limits.maxDepth,
        deep: false,
      };
      for (const definition of operation.variableDefinitions ?? []) {
        const type = typeFromAST(schema, definition.type);
        const name = definition.variable.name.value;
        if (!type || (!isNonNullType(type) && random.chance(0.2))) continue;
        build.variables[name] = json(build, type as GraphQLInputType, name, `$${name}`);
      }
      return { variables: build.variables, values: build.values };
    },
  };
}

const isRequired = (argument: GraphQLArgument): boolean =>
  isNonNullType(argument.type) && argument.defaultValue === undefined;

/** Object fields first, single objects before lists: the way down to the depth limit. */
function deepRank(field: GraphQLField<unknown, unknown>): number {
  if (isLeafType(getNamedType(field.type))) return 2;
  return isListType(getNullableType(field.type)) ? 1 : 0;
}

/** A scalar as a GraphQL literal: graphql-js prints strings with the escapes the spec wants. */
function printScalar(value: unknown): string {
  if (typeof value === "string") return print({ kind: Kind.STRING, value });
  if (typeof value === "number") return Object.is(value, -0) ? "0" : String(value);
  return String(value);
}

/** The list size a `first` argument asks for, read back from the literal or the variable. */
function sizeFrom(build: Build, text: string): number | null {
  const raw = text.startsWith("$") ? build.variables[text.slice(1)] : Number(text);
  return typeof raw === "number" && Number.isFinite(raw) ? Math.max(0, raw) : null;
}

/** Whether two object types have a field of one name with different types. */
function fieldTypesClash(a: GraphQLObjectType, b: GraphQLObjectType): boolean {
  const bFields = b.getFields();
  return Object.values(a.getFields()).some((field) => {
    const other = bFields[field.name];
    return other !== undefined && String(other.type) !== String(field.type);
  });
}
