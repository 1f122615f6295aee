import {
  type ConstDirectiveNode,
  type DocumentNode,
  defaultFieldResolver,
  type GraphQLArgument,
  type GraphQLFieldResolver,
  type GraphQLInputType,
  type GraphQLSchema,
  getNamedType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
} from "graphql";
import { decodeIdOfType, parseGlobalId, toGlobalId } from "./global-id.ts";

/**
 * Where an id is a reference: `Type.field` (an output field or an input object's field) and
 * `Type.field(argument)`, mapped to the type of node it names.
 */
type References = ReadonlyMap<string, string>;

/** Called once per legacy raw id a client sent, with the type it stood for. */
export type LegacyIdListener = (type: string) => void;

const GLOBAL_ID = "globalId";

/**
 * Node types: every entity keyed by `id` (the subgraph owns it or references it) and every type
 * that says `implements Node`. Their `id` is a global id in every subgraph, so the gateway's
 * representations carry global ids wherever the entity is resolved.
 */
export function readNodeTypes(document: DocumentNode): ReadonlySet<string> {
  const nodes = new Set<string>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION)
      continue;
    const keyedById = (definition.directives ?? []).some(
      (directive) => directive.name.value === "key" && stringArgument(directive, "fields")?.trim() === "id",
    );
    const implementsNode = (definition.interfaces ?? []).some((name) => name.name.value === "Node");
    if (keyedById || implementsNode) nodes.add(definition.name.value);
  }
  return nodes;
}

/** Every `@globalId(type:)` of the SDL: on output fields, arguments and input fields. */
export function readGlobalIdReferences(document: DocumentNode): References {
  const references = new Map<string, string>();
  const add = (key: string, directives: readonly ConstDirectiveNode[] | undefined) => {
    const directive = directives?.find((each) => each.name.value === GLOBAL_ID);
    const type = directive && stringArgument(directive, "type");
    if (type) references.set(key, type);
  };
  for (const definition of document.definitions) {
    if (
      definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      definition.kind !== Kind.OBJECT_TYPE_EXTENSION &&
      definition.kind !== Kind.INPUT_OBJECT_TYPE_DEFINITION &&
      definition.kind !== Kind.INPUT_OBJECT_TYPE_EXTENSION
    ) {
      continue;
    }
    for (const field of definition.fields ?? []) {
      const key = `${definition.name.value}.${field.name.value}`;
      add(key, field.directives);
      if (!("arguments" in field)) continue;
      for (const argument of field.arguments ?? [])
        add(`${key}(${argument.name.value})`, argument.directives);
    }
  }
  return references;
}

function stringArgument(directive: ConstDirectiveNode, name: string): string | undefined {
  const value = directive.arguments?.find((argument) => argument.name.value === name)?.value;
  return value?.kind === Kind.STRING ? value.value : undefined;
}

/** Where `buildSubgraphSchema` keeps an entity type's `__resolveReference`. */
interface EntityExtensions {
  apollo?: {
    subgraph?: { resolveReference?: (reference: unknown, context: unknown, info: unknown) => unknown };
  };
}

/**
 * Makes a subgraph speak global ids at its boundary while its resolvers keep raw ids: the `id` of
 * every node type and every `@globalId` output field is encoded, every `@globalId` argument and
 * input field (nested, lists) is decoded before the resolver runs (raw ids still accepted, and
 * reported to `onLegacyId`), and `__resolveReference` gets the raw id. Mutates and returns the
 * schema, which `buildSubgraphSchema` has just built for this purpose alone.
 */
export function useGlobalIds(
  schema: GraphQLSchema,
  typeDefs: DocumentNode,
  onLegacyId: LegacyIdListener = () => {},
): GraphQLSchema {
  const nodes = readNodeTypes(typeDefs);
  const references = readGlobalIdReferences(typeDefs);
  const decodeInput = createInputDecoder(references, onLegacyId);

  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("_")) continue;
    for (const field of Object.values(type.getFields())) {
      const key = `${type.name}.${field.name}`;
      const encodeAs = field.name === "id" && nodes.has(type.name) ? type.name : references.get(key);
      const decodedArguments = field.args.filter((argument) => decodeInput.needs(key, argument));
      if (!encodeAs && decodedArguments.length === 0) continue;
      const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args: Record<string, unknown>, context, info) => {
        let decodedArgs = args;
        if (decodedArguments.length > 0) {
          decodedArgs = { ...args };
          for (const argument of decodedArguments) {
            decodedArgs[argument.name] = decodeInput.argument(key, argument, args[argument.name]);
          }
        }
        if (!encodeAs) return resolve(source, decodedArgs, context, info);
        return mapMaybePromise(resolve(source, decodedArgs, context, info), (value) =>
          encodeIds(value, encodeAs),
        );
      };
    }
    if (nodes.has(type.name)) decodeReferences(type.name, type.extensions as EntityExtensions);
  }
  return schema;
}

/**
 * Gives a node type's `__resolveReference` the raw id. A type without one (an entity this
 * subgraph only extends) gets one too: `_entities` would otherwise hand the representation, global
 * id and all, to its field resolvers as the parent.
 */
function decodeReferences(typeName: string, extensions: EntityExtensions): void {
  const apollo = extensions.apollo ?? {};
  const subgraph = apollo.subgraph ?? {};
  const resolveReference = subgraph.resolveReference ?? ((reference: unknown) => reference);
  subgraph.resolveReference = (reference, context, info) => {
    const raw = rawReferenceId(reference, typeName);
    // A representation naming another type's node, or malformed, names nothing here.
    if (raw === null) return null;
    return resolveReference({ ...(reference as object), id: raw }, context, info);
  };
  apollo.subgraph = subgraph;
  extensions.apollo = apollo;
}

/**
 * The raw id of a representation: the gateway sends global ids, other subgraphs calling
 * `_entities` directly may send raw ones. Null for a global id of another type.
 */
function rawReferenceId(reference: unknown, type: string): string | null {
  const id = (reference as { id?: unknown } | null)?.id;
  if (typeof id !== "string") return null;
  try {
    return decodeIdOfType(id, type).raw;
  } catch {
    return null;
  }
}

function mapMaybePromise(value: unknown, map: (value: unknown) => unknown): unknown {
  return value instanceof Promise ? value.then(map) : map(value);
}

/** Encodes a raw id (or a list of them) as global ids; a value already global is left as it is. */
function encodeIds(value: unknown, type: string): unknown {
  if (Array.isArray(value)) return value.map((each) => encodeIds(each, type));
  if (typeof value === "number") return toGlobalId(type, String(value));
  if (typeof value !== "string" || value === "") return value;
  return parseGlobalId(value)?.type === type ? value : toGlobalId(type, value);
}

/** Decodes the `@globalId` arguments and input fields of a field's arguments, nested and in lists. */
function createInputDecoder(references: References, onLegacyId: LegacyIdListener) {
  const carries = new Map<string, boolean>();
  /** Whether an input type holds an `@globalId` field anywhere below it. */
  const inputCarriesIds = (type: GraphQLInputType): boolean => {
    const named = getNamedType(type);
    if (!isInputObjectType(named)) return false;
    const known = carries.get(named.name);
    if (known !== undefined) return known;
    carries.set(named.name, false); // a recursive input type is decided by its other fields
    const result = Object.values(named.getFields()).some(
      (field) => references.has(`${named.name}.${field.name}`) || inputCarriesIds(field.type),
    );
    carries.set(named.name, result);
    return result;
  };

  const decodeId = (value: unknown, type: string): unknown => {
    if (typeof value !== "string") return value;
    const decoded = decodeIdOfType(value, type);
    if (decoded.legacy) onLegacyId(type);
    return decoded.raw;
  };

  const decodeValue = (value: unknown, type: GraphQLInputType, idType: string | undefined): unknown => {
    if (value === null || value === undefined) return value;
    if (isNonNullType(type)) return decodeValue(value, type.ofType, idType);
    if (isListType(type)) {
      return Array.isArray(value) ? value.map((each) => decodeValue(each, type.ofType, idType)) : value;
    }
    if (idType) return decodeId(value, idType);
    if (!isInputObjectType(type) || !inputCarriesIds(type) || typeof value !== "object") return value;
    const decoded: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const field of Object.values(type.getFields())) {
      if (!(field.name in decoded)) continue;
      decoded[field.name] = decodeValue(
        decoded[field.name],
        field.type,
        references.get(`${type.name}.${field.name}`),
      );
    }
    return decoded;
  };

  return {
    needs: (fieldKey: string, argument: GraphQLArgument): boolean =>
      references.has(`${fieldKey}(${argument.name})`) || inputCarriesIds(argument.type),
    argument: (fieldKey: string, argument: GraphQLArgument, value: unknown): unknown =>
      decodeValue(value, argument.type, references.get(`${fieldKey}(${argument.name})`)),
  };
}
