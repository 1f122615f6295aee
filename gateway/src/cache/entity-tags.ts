import { parseGlobalId } from "@nexus/core";
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  getOperationAST,
  isInterfaceType,
  isListType,
  isObjectType,
  isUnionType,
  Kind,
  type SelectionSetNode,
} from "graphql";

/**
 * The tags an entry is filed under, so that a change notice finds every entry holding what
 * changed:
 *
 * - `Type:<id>` for each object with an `id` field whose id the response holds;
 * - `Type:*` for objects of such a type whose id was not selected, and for a null where one
 *   could be (any change of the type removes the entry: coarser, never stale);
 * - `Query.<field>` for each root field, so a listing (`Query.products`) goes when the set of
 *   products behind it may have changed, even when it holds none of them;
 * - `Type.field` for each field returning a list of entities (`Product.frequentlyBoughtTogether`),
 *   for the same reason: insights announces these when its recommendations are rebuilt.
 *
 * The types come from the schema, so a client need not select `__typename`; for a union or an
 * interface the object's `__typename` names it when selected, else the abstract type's `*` tag
 * of every possible type is used.
 */
export function entityTags(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  data: unknown,
): string[] {
  const operation = getOperationAST(document, operationName);
  const root = operation && schema.getRootType(operation.operation);
  if (!operation || !root) return [];
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const tags = new Set<string>();

  /** Every field selected on an object of `type`, fragments followed (their type conditions are loose). */
  const fieldsOf = (selectionSet: SelectionSetNode, out: FieldNode[] = [], seen = new Set<string>()) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) out.push(selection);
      else if (selection.kind === Kind.INLINE_FRAGMENT) fieldsOf(selection.selectionSet, out, seen);
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) fieldsOf(fragment.selectionSet, out, seen);
      }
    }
    return out;
  };

  const tagObject = (type: GraphQLNamedType, value: Record<string, unknown>, fields: FieldNode[]) => {
    const typename = typeof value.__typename === "string" ? value.__typename : undefined;
    const concrete = typename ? schema.getType(typename) : type;
    const candidates =
      concrete && (isInterfaceType(concrete) || isUnionType(concrete))
        ? schema.getPossibleTypes(concrete)
        : concrete
          ? [concrete]
          : [];
    const idField = fields.find((field) => field.name.value === "id");
    const id = idField ? value[idField.alias?.value ?? "id"] : undefined;
    // Responses carry global ids, change notices raw ones; a global id also names its type,
    // so `node(id:) { id }` is tagged exactly without `__typename`.
    const global = typeof id === "string" ? parseGlobalId(id) : null;
    if (global && candidates.some((candidate) => candidate.name === global.type)) {
      tags.add(`${global.type}:${global.raw}`);
      return schema.getType(global.type) ?? concrete ?? type;
    }
    for (const candidate of candidates) {
      if (!isObjectType(candidate) || !("id" in candidate.getFields())) continue;
      tags.add(
        candidates.length === 1 && (typeof id === "string" || typeof id === "number")
          ? `${candidate.name}:${id}`
          : `${candidate.name}:*`,
      );
    }
    return concrete ?? type;
  };

  /**
   * A null where an entity could be (`product(slug:)` of one not yet for sale) names no id: it
   * is filed under the type's `*` tag, which every change of that type removes.
   */
  const tagNull = (type: GraphQLNamedType) => {
    const candidates = isInterfaceType(type) || isUnionType(type) ? schema.getPossibleTypes(type) : [type];
    for (const candidate of candidates) {
      if (isObjectType(candidate) && "id" in candidate.getFields()) tags.add(`${candidate.name}:*`);
    }
  };

  const walk = (type: GraphQLNamedType, selectionSet: SelectionSetNode, value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(type, selectionSet, item);
      return;
    }
    if (value === null || value === undefined) {
      tagNull(type);
      return;
    }
    if (typeof value !== "object") return;
    const object = value as Record<string, unknown>;
    const fields = fieldsOf(selectionSet);
    const concrete = tagObject(type, object, fields);
    for (const field of fields) {
      if (!field.selectionSet) continue;
      const owner = [concrete, type].find(
        (t) => (isObjectType(t) || isInterfaceType(t)) && t.getFields()[field.name.value],
      );
      const definition =
        owner && (isObjectType(owner) || isInterfaceType(owner))
          ? owner.getFields()[field.name.value]
          : undefined;
      // A field of a fragment on another possible type: its named type is found on that type.
      const named = definition
        ? getNamedType(definition.type)
        : fieldTypeOnAnyPossible(schema, type, field.name.value);
      if (!named) continue;
      if (
        definition &&
        owner &&
        isListType(getNullableType(definition.type)) &&
        holdsEntities(schema, named)
      ) {
        tags.add(`${owner.name}.${field.name.value}`);
      }
      walk(named, field.selectionSet, object[field.alias?.value ?? field.name.value]);
    }
  };

  for (const field of fieldsOf(operation.selectionSet)) {
    if (field.name.value.startsWith("__")) continue;
    tags.add(`${root.name}.${field.name.value}`);
    const definition = root.getFields()[field.name.value];
    if (!definition || !field.selectionSet || data === null || typeof data !== "object") continue;
    walk(
      getNamedType(definition.type),
      field.selectionSet,
      (data as Record<string, unknown>)[field.alias?.value ?? field.name.value],
    );
  }
  return [...tags].sort();
}

/** Whether objects of `type` (or of one of its possible types) carry an `id`. */
function holdsEntities(schema: GraphQLSchema, type: GraphQLNamedType): boolean {
  const candidates = isInterfaceType(type) || isUnionType(type) ? schema.getPossibleTypes(type) : [type];
  return candidates.some((candidate) => isObjectType(candidate) && "id" in candidate.getFields());
}

function fieldTypeOnAnyPossible(schema: GraphQLSchema, type: GraphQLNamedType, name: string) {
  if (!isInterfaceType(type) && !isUnionType(type)) return undefined;
  for (const possible of schema.getPossibleTypes(type)) {
    const definition = possible.getFields()[name];
    if (definition) return getNamedType(definition.type);
  }
  return undefined;
}
