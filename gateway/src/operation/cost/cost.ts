import {
  type ConstDirectiveNode,
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  getOperationAST,
  isCompositeType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  valueFromASTUntyped,
} from "graphql";

/** Where Apollo's demand control directives come from in a supergraph. */
const COST_SPEC = "https://specs.apollo.dev/cost/";

/** Apollo's base cost of a mutation; queries start at 0. */
const MUTATION_COST = 10;

/** The size assumed for a list without `@listSize` (the value Apollo's examples use). */
export const DEFAULT_LIST_SIZE = 10;

/** `@listSize` of one field, as the cost spec defines it. */
export interface ListSize {
  assumedSize: number | null;
  slicingArguments: readonly string[];
  sizedFields: readonly string[];
}

/**
 * The supergraph's `@cost` weights and `@listSize` declarations, by schema coordinate:
 * `Type`, `Type.field`, `Type.field(argument:)` and `Input.field`.
 */
export interface CostDirectives {
  weights: ReadonlyMap<string, number>;
  listSizes: ReadonlyMap<string, ListSize>;
}

/**
 * Reads `@cost` and `@listSize` from a supergraph. Composition keeps both (cost spec v0.1,
 * Federation 2.9+) under the names its `@link` gives them: `@cost` is the feature's own
 * name, `@listSize` is imported, and either may be renamed with `as`.
 */
export function readCostDirectives(supergraph: DocumentNode): CostDirectives {
  const names = costDirectiveNames(supergraph);
  const weights = new Map<string, number>();
  const listSizes = new Map<string, ListSize>();
  if (!names) return { weights, listSizes };

  const read = (coordinate: string, directives: readonly ConstDirectiveNode[] | undefined) => {
    for (const directive of directives ?? []) {
      if (directive.name.value === names.cost) {
        const weight = argumentOf(directive, "weight");
        if (typeof weight === "number") weights.set(coordinate, weight);
      } else if (directive.name.value === names.listSize) {
        const assumedSize = argumentOf(directive, "assumedSize");
        listSizes.set(coordinate, {
          assumedSize: typeof assumedSize === "number" ? assumedSize : null,
          slicingArguments: stringsOf(argumentOf(directive, "slicingArguments")),
          sizedFields: stringsOf(argumentOf(directive, "sizedFields")),
        });
      }
    }
  };
  for (const definition of supergraph.definitions) {
    switch (definition.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.OBJECT_TYPE_EXTENSION:
      case Kind.INTERFACE_TYPE_DEFINITION:
      case Kind.INTERFACE_TYPE_EXTENSION:
        read(definition.name.value, definition.directives);
        for (const field of definition.fields ?? []) {
          const coordinate = `${definition.name.value}.${field.name.value}`;
          read(coordinate, field.directives);
          for (const argument of field.arguments ?? []) {
            read(`${coordinate}(${argument.name.value}:)`, argument.directives);
          }
        }
        break;
      case Kind.INPUT_OBJECT_TYPE_DEFINITION:
      case Kind.INPUT_OBJECT_TYPE_EXTENSION:
        read(definition.name.value, definition.directives);
        for (const field of definition.fields ?? []) {
          read(`${definition.name.value}.${field.name.value}`, field.directives);
        }
        break;
      case Kind.ENUM_TYPE_DEFINITION:
      case Kind.ENUM_TYPE_EXTENSION:
      case Kind.SCALAR_TYPE_DEFINITION:
      case Kind.SCALAR_TYPE_EXTENSION:
        read(definition.name.value, definition.directives);
        break;
      default:
        break;
    }
  }
  return { weights, listSizes };
}

function costDirectiveNames(supergraph: DocumentNode): { cost: string; listSize: string } | null {
  for (const definition of supergraph.definitions) {
    if (definition.kind !== Kind.SCHEMA_DEFINITION && definition.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const link of definition.directives ?? []) {
      const url = argumentOf(link, "url");
      if (link.name.value !== "link" || typeof url !== "string" || !url.startsWith(COST_SPEC)) continue;
      const as = argumentOf(link, "as");
      const namespace = typeof as === "string" ? as : "cost";
      const imported = new Map<string, string>();
      const imports = argumentOf(link, "import");
      for (const entry of Array.isArray(imports) ? imports : []) {
        if (typeof entry === "string") imported.set(entry, entry);
        else if (entry && typeof entry === "object" && "name" in entry) {
          const { name, as: alias } = entry as { name: unknown; as?: unknown };
          if (typeof name === "string") imported.set(name, typeof alias === "string" ? alias : name);
        }
      }
      const nameOf = (directive: string, fallback: string) =>
        (imported.get(`@${directive}`) ?? `@${fallback}`).slice(1);
      return { cost: nameOf("cost", namespace), listSize: nameOf("listSize", `${namespace}__listSize`) };
    }
  }
  return null;
}

function argumentOf(directive: ConstDirectiveNode | DirectiveNode, name: string): unknown {
  const value = directive.arguments?.find((argument) => argument.name.value === name)?.value;
  return value ? valueFromASTUntyped(value) : undefined;
}

const stringsOf = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];

type Variables = Readonly<Record<string, unknown>>;

/** The `@listSize` of a parent field, applied to its `sizedFields` (a connection's `edges`). */
interface SizedBy {
  fields: readonly string[];
  size: number | null;
}

/**
 * The static cost of the operation that `operationName` selects, before any subgraph is
 * called, as Apollo's demand control estimates it (IBM cost spec): a mutation costs 10, every
 * object, interface or union field 1 and every scalar or enum field 0 unless `@cost` says
 * otherwise (on the field, else on its type). A list multiplies its item's cost (its own
 * weight and its selections) by its size: the largest slicing argument given (literal,
 * variable or default), else `assumedSize`, else a parent's `@listSize` for a `sizedFields`
 * child, else DEFAULT_LIST_SIZE. Input objects in arguments cost 1 each and `@cost`-weighted
 * arguments and input fields their weight. Fragments and inline fragments count where they
 * are spread; selections on different type conditions are added up, like Apollo's router,
 * so the estimate is an upper bound. `__typename` and introspection fields are free: the
 * gateway answers them itself. Fields skipped by `@skip`/`@include` cost nothing.
 */
export function estimateCost(
  schema: GraphQLSchema,
  directives: CostDirectives,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Variables = {},
): number {
  const operation = getOperationAST(document, operationName);
  const root = operation && schema.getRootType(operation.operation);
  if (!operation || !root) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const values = variableValues(operation, variables);
  const { weights, listSizes } = directives;

  const skipped = (node: { directives?: readonly DirectiveNode[] | undefined }): boolean =>
    (node.directives ?? []).some((directive) => {
      const condition = directive.arguments?.find((argument) => argument.name.value === "if")?.value;
      if (!condition) return false;
      const value =
        condition.kind === Kind.VARIABLE ? values[condition.name.value] : valueFromASTUntyped(condition);
      return (
        (directive.name.value === "skip" && value === true) ||
        (directive.name.value === "include" && value === false)
      );
    });

  const selectionSetCost = (
    selectionSet: SelectionSetNode,
    parent: GraphQLNamedType,
    sizedBy: SizedBy | null,
    spreading: ReadonlySet<string>,
  ): number => {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (skipped(selection)) continue;
      if (selection.kind === Kind.FIELD) {
        cost += fieldCost(selection, parent, sizedBy, spreading);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition && schema.getType(selection.typeCondition.name.value);
        cost += selectionSetCost(selection.selectionSet, condition ?? parent, sizedBy, spreading);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        const condition = fragment && schema.getType(fragment.typeCondition.name.value);
        // Validation refuses fragment cycles before this runs; the guard only keeps it finite.
        if (!fragment || !condition || spreading.has(name)) continue;
        cost += selectionSetCost(fragment.selectionSet, condition, sizedBy, new Set([...spreading, name]));
      }
    }
    return cost;
  };

  const fieldCost = (
    field: FieldNode,
    parent: GraphQLNamedType,
    sizedBy: SizedBy | null,
    spreading: ReadonlySet<string>,
  ): number => {
    const name = field.name.value;
    if (name.startsWith("__")) return 0;
    const definition = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
    if (!definition) return 0;
    const coordinate = `${parent.name}.${name}`;
    const type = getNamedType(definition.type);
    const listSize = listSizes.get(coordinate);
    const expected = listSize ? expectedSize(listSize, field, definition, values) : null;
    const count = isListType(getNullableType(definition.type))
      ? ((sizedBy?.fields.includes(name) ? sizedBy.size : null) ?? expected ?? DEFAULT_LIST_SIZE)
      : 1;
    const ownCost = weights.get(coordinate) ?? weights.get(type.name) ?? (isCompositeType(type) ? 1 : 0);
    const childSizedBy =
      listSize && listSize.sizedFields.length > 0 ? { fields: listSize.sizedFields, size: expected } : null;
    const selectionsCost = field.selectionSet
      ? selectionSetCost(field.selectionSet, type, childSizedBy, spreading)
      : 0;
    let argumentsCost = 0;
    for (const argument of field.arguments ?? []) {
      const argumentDefinition = definition.args.find((arg) => arg.name === argument.name.value);
      if (!argumentDefinition) continue;
      const weight = weights.get(`${coordinate}(${argument.name.value}:)`);
      argumentsCost += inputCost(
        valueFromASTUntyped(argument.value, values),
        argumentDefinition.type,
        weight,
        weights,
      );
    }
    return count * (ownCost + selectionsCost) + argumentsCost;
  };

  return (
    (operation.operation === "mutation" ? MUTATION_COST : 0) +
    selectionSetCost(operation.selectionSet, root, null, new Set())
  );
}

/** The request's variables, with each definition's default where the request gives none. */
function variableValues(operation: OperationDefinitionNode, variables: Variables): Variables {
  const values: Record<string, unknown> = { ...variables };
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    if (values[name] === undefined && definition.defaultValue) {
      values[name] = valueFromASTUntyped(definition.defaultValue);
    }
  }
  return values;
}

/** The largest slicing argument given or defaulted, else `assumedSize`, else null. */
function expectedSize(
  listSize: ListSize,
  field: FieldNode,
  definition: GraphQLField<unknown, unknown>,
  variables: Variables,
): number | null {
  const sizes: number[] = [];
  for (const name of listSize.slicingArguments) {
    const node = field.arguments?.find((argument) => argument.name.value === name);
    // An argument left out, or given a variable the request leaves unset, takes its default.
    const value =
      (node && valueFromASTUntyped(node.value, variables)) ??
      definition.args.find((argument: GraphQLArgument) => argument.name === name)?.defaultValue;
    if (typeof value === "number" && Number.isFinite(value)) sizes.push(Math.max(0, value));
  }
  return sizes.length > 0 ? Math.max(...sizes) : listSize.assumedSize;
}

/**
 * What an argument value costs: an input object 1 (or its type's `@cost`) plus its fields, a
 * list the sum of its items, a scalar or enum its `@cost` weight, else nothing.
 */
function inputCost(
  value: unknown,
  type: GraphQLInputType,
  weight: number | undefined,
  weights: ReadonlyMap<string, number>,
): number {
  if (value === null || value === undefined) return 0;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    const items = Array.isArray(value) ? value : [value];
    return (
      (weight ?? 0) +
      items.reduce<number>((sum, item) => sum + inputCost(item, nullable.ofType, weight, weights), 0)
    );
  }
  const named = getNamedType(nullable);
  if (isInputObjectType(named) && typeof value === "object") {
    const fields = named.getFields();
    let cost = weight ?? weights.get(named.name) ?? 1;
    for (const [name, fieldValue] of Object.entries(value)) {
      const field: GraphQLInputField | undefined = fields[name];
      if (field) cost += inputCost(fieldValue, field.type, weights.get(`${named.name}.${name}`), weights);
    }
    return cost;
  }
  return weight ?? weights.get(named.name) ?? 0;
}
