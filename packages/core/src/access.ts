import {
  type ConstDirectiveNode,
  type DocumentNode,
  defaultFieldResolver,
  type GraphQLFieldResolver,
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
  isObjectType,
  Kind,
  type ValueNode,
} from "graphql";
import type { Viewer } from "./auth.ts";
import { forbidden, unauthenticated } from "./errors.ts";

/**
 * What Federation's `@authenticated` and `@requiresScopes` demand of a field. Every entry of
 * `scopeSets` must hold; each entry is satisfied when the viewer has every scope of at least
 * one of its inner lists (`[["a", "b"], ["c"]]` reads "a and b, or c"), as Federation defines it.
 */
export interface AccessRule {
  authenticated: boolean;
  scopeSets: readonly (readonly (readonly string[])[])[];
}

/** Rules keyed by `Type` (applies wherever the type is returned) and by `Type.field`. */
export type AccessRules = ReadonlyMap<string, AccessRule>;

const AUTHENTICATED = new Set(["authenticated", "federation__authenticated"]);
const REQUIRES_SCOPES = new Set(["requiresScopes", "federation__requiresScopes"]);

/**
 * Reads the access directives from an SDL: a subgraph's own schema or the composed
 * supergraph, which keeps both directives, so the gateway and the subgraphs enforce one
 * declaration.
 */
export function readAccessRules(document: DocumentNode): AccessRules {
  const rules = new Map<string, AccessRule>();
  const add = (key: string, directives: readonly ConstDirectiveNode[] | undefined) => {
    const rule = ruleOf(directives ?? []);
    if (!rule) return;
    const existing = rules.get(key);
    rules.set(key, existing ? combine(existing, rule) : rule);
  };
  for (const definition of document.definitions) {
    switch (definition.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.OBJECT_TYPE_EXTENSION:
      case Kind.INTERFACE_TYPE_DEFINITION:
      case Kind.INTERFACE_TYPE_EXTENSION:
        add(definition.name.value, definition.directives);
        for (const field of definition.fields ?? []) {
          add(`${definition.name.value}.${field.name.value}`, field.directives);
        }
        break;
      case Kind.SCALAR_TYPE_DEFINITION:
      case Kind.SCALAR_TYPE_EXTENSION:
      case Kind.ENUM_TYPE_DEFINITION:
      case Kind.ENUM_TYPE_EXTENSION:
        add(definition.name.value, definition.directives);
        break;
      default:
        break;
    }
  }
  return rules;
}

function ruleOf(directives: readonly ConstDirectiveNode[]): AccessRule | null {
  let authenticated = false;
  const scopeSets: string[][][] = [];
  for (const directive of directives) {
    if (AUTHENTICATED.has(directive.name.value)) authenticated = true;
    if (REQUIRES_SCOPES.has(directive.name.value)) {
      const argument = directive.arguments?.find((arg) => arg.name.value === "scopes");
      if (!argument) throw new Error("@requiresScopes needs a scopes argument.");
      scopeSets.push(readScopes(argument.value));
    }
  }
  return authenticated || scopeSets.length > 0 ? { authenticated, scopeSets } : null;
}

function readScopes(value: ValueNode): string[][] {
  const list = (node: ValueNode): readonly ValueNode[] => (node.kind === Kind.LIST ? node.values : [node]);
  return list(value).map((inner) =>
    list(inner).map((scope) => {
      if (scope.kind !== Kind.STRING) throw new Error("@requiresScopes scopes must be strings.");
      return scope.value;
    }),
  );
}

const combine = (a: AccessRule, b: AccessRule): AccessRule => ({
  authenticated: a.authenticated || b.authenticated,
  scopeSets: [...a.scopeSets, ...b.scopeSets],
});

/** The rule of `parent.field` together with the rule of the type it returns, or null when it is public. */
export function fieldAccessRule(
  rules: AccessRules,
  parentType: string,
  fieldName: string,
  returnType: GraphQLNamedType | string,
): AccessRule | null {
  const own = rules.get(`${parentType}.${fieldName}`);
  const ofType = rules.get(typeof returnType === "string" ? returnType : returnType.name);
  if (own && ofType) return combine(own, ofType);
  return own ?? ofType ?? null;
}

export type AccessDenial = "UNAUTHENTICATED" | "FORBIDDEN";

/** Null when the viewer satisfies the rule, otherwise why not. */
export function checkAccess(rule: AccessRule, viewer: Pick<Viewer, "scopes"> | null): AccessDenial | null {
  if (!rule.authenticated && rule.scopeSets.length === 0) return null;
  if (!viewer) return "UNAUTHENTICATED";
  const held = new Set(viewer.scopes);
  const satisfied = rule.scopeSets.every((alternatives) =>
    alternatives.some((required) => required.every((scope) => held.has(scope))),
  );
  return satisfied ? null : "FORBIDDEN";
}

/** The error for a denial, naming the scopes that would have allowed it. */
export function accessError(denial: AccessDenial, rule: AccessRule) {
  if (denial === "UNAUTHENTICATED") return unauthenticated();
  const needed = rule.scopeSets
    .map((alternatives) =>
      alternatives.map((all) => `the ${all.join(" and ")} scope${all.length > 1 ? "s" : ""}`).join(", or "),
    )
    .join("; and ");
  return forbidden(`This needs ${needed}.`);
}

/** Where `buildSubgraphSchema` keeps an entity type's `__resolveReference`. */
interface EntityExtensions {
  apollo?: {
    subgraph?: { resolveReference?: (reference: unknown, context: unknown, info: unknown) => unknown };
  };
}

/**
 * Makes a subgraph enforce its own access directives: every field with a rule (on the field
 * or on the type it returns) checks `context.viewer` before its resolver runs, and entity
 * types with a rule check it before `__resolveReference`. A denied nullable field resolves to
 * null with an error at its path; the rest of the response is served. Mutates and returns the
 * schema, which `buildSubgraphSchema` has just built for this purpose alone.
 */
export function enforceAccess(schema: GraphQLSchema, typeDefs: DocumentNode): GraphQLSchema {
  const rules = readAccessRules(typeDefs);
  const viewerOf = (context: unknown): Viewer | null =>
    (context as { viewer?: Viewer | null } | null)?.viewer ?? null;

  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    for (const field of Object.values(type.getFields())) {
      const rule = fieldAccessRule(rules, type.name, field.name, getNamedType(field.type));
      if (!rule) continue;
      const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args, context, info) => {
        const denial = checkAccess(rule, viewerOf(context));
        if (denial) throw accessError(denial, rule);
        return resolve(source, args, context, info);
      };
    }
    const typeRule = rules.get(type.name);
    const subgraph = (type.extensions as EntityExtensions).apollo?.subgraph;
    const resolveReference = subgraph?.resolveReference;
    if (typeRule && subgraph && resolveReference) {
      // Async, so a denial fails this one representation: `_entities` calls every
      // `__resolveReference` in one loop, and a synchronous throw would fail them all.
      subgraph.resolveReference = async (reference, context, info) => {
        const denial = checkAccess(typeRule, viewerOf(context));
        if (denial) throw accessError(denial, typeRule);
        return resolveReference(reference, context, info);
      };
    }
  }
  return schema;
}
