import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import {
  type ArgumentNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from "graphql";

/**
 * The text rule, the same for every service whatever its store: text may contain any Unicode
 * character except
 * - the control characters (U+0000–U+001F, U+007F–U+009F) other than tab, line feed and
 *   carriage return, which multi-line fields (review bodies, reasons, addresses) need;
 * - unpaired surrogates, which are not text at all (invalid UTF-16, no UTF-8 form).
 *
 * PostgreSQL's `text` cannot hold U+0000 and rejects invalid UTF-8, so without the rule such
 * input reached SQL and failed there as an internal error; MongoDB stores both, which would
 * make the same input valid in one subgraph and not in another. Other controls are refused
 * because nothing legitimate sends them and they can forge log lines or terminal output.
 */
export interface RefusedCharacter {
  /** Index in the string (UTF-16 code units). */
  index: number;
  /** As U+XXXX. */
  codePoint: string;
  kind: "control character" | "unpaired surrogate";
}

const TAB = 0x09;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;

const hex = (code: number) => `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;

/** The first character of `text` the text rule refuses, or null when there is none. */
export function findRefusedCharacter(text: string): RefusedCharacter | null {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20) {
      if (code === TAB || code === LINE_FEED || code === CARRIAGE_RETURN) continue;
      return { index, codePoint: hex(code), kind: "control character" };
    }
    if (code >= 0x7f && code <= 0x9f) return { index, codePoint: hex(code), kind: "control character" };
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        index++;
        continue;
      }
      return { index, codePoint: hex(code), kind: "unpaired surrogate" };
    }
    if (code >= 0xdc00 && code <= 0xdfff) return { index, codePoint: hex(code), kind: "unpaired surrogate" };
  }
  return null;
}

const EXPLANATION: Record<RefusedCharacter["kind"], string> = {
  "control character":
    "a control character: text may contain no control characters other than tab, line feed and carriage return.",
  "unpaired surrogate": "an unpaired surrogate, which is not valid text.",
};

/** Where a refused string sits: the field and the path inside one of its arguments. */
interface Finding {
  field: string;
  path: (string | number)[];
  refused: RefusedCharacter;
}

/** Every string in a runtime value (a variable's), nested objects and lists included. */
function findInValue(value: unknown, path: (string | number)[]): Omit<Finding, "field"> | null {
  if (typeof value === "string") {
    const refused = findRefusedCharacter(value);
    return refused ? { path, refused } : null;
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findInValue(item, [...path, index]);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      // A key is text too: a JSON-like scalar or a representation could carry it anywhere.
      const inKey = findInValue(key, [...path, key]);
      if (inKey) return inKey;
      const found = findInValue(item, [...path, key]);
      if (found) return found;
    }
  }
  return null;
}

/**
 * Finds the first refused string among the arguments of an operation's fields and directives,
 * following fragments: literals, variables (as sent, or their default) and everything nested in
 * them. Variables the operation does not declare are never read by anything, so never checked.
 */
export function findRefusedArgument(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> = {},
): Finding | null {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const defaults = new Map(
    (operation.variableDefinitions ?? []).map((definition) => [
      definition.variable.name.value,
      definition.defaultValue,
    ]),
  );

  const inLiteral = (value: ValueNode, path: (string | number)[]): Omit<Finding, "field"> | null => {
    switch (value.kind) {
      case Kind.STRING: {
        const refused = findRefusedCharacter(value.value);
        return refused ? { path, refused } : null;
      }
      case Kind.VARIABLE: {
        const name = value.name.value;
        if (Object.hasOwn(variables, name)) return findInValue(variables[name], path);
        const fallback = defaults.get(name);
        return fallback ? inLiteral(fallback, path) : null;
      }
      case Kind.LIST:
        for (const [index, item] of value.values.entries()) {
          const found = inLiteral(item, [...path, index]);
          if (found) return found;
        }
        return null;
      case Kind.OBJECT:
        for (const field of value.fields) {
          const found = inLiteral(field.value, [...path, field.name.value]);
          if (found) return found;
        }
        return null;
      default:
        return null;
    }
  };

  const inArguments = (owner: string, args: readonly ArgumentNode[] | undefined): Finding | null => {
    for (const argument of args ?? []) {
      const found = inLiteral(argument.value, [argument.name.value]);
      if (found) return { field: owner, ...found };
    }
    return null;
  };

  const visited = new Set<string>();
  const inSelections = (set: SelectionSetNode | undefined): Finding | null => {
    for (const selection of set?.selections ?? []) {
      const found = inSelection(selection);
      if (found) return found;
    }
    return null;
  };
  const inSelection = (selection: SelectionSetNode["selections"][number]): Finding | null => {
    const inDirectives = (selection.directives ?? []).reduce<Finding | null>(
      (found, directive) => found ?? inArguments(`@${directive.name.value}`, directive.arguments),
      null,
    );
    if (inDirectives) return inDirectives;
    if (selection.kind === Kind.FIELD) return inField(selection);
    if (selection.kind === Kind.INLINE_FRAGMENT) return inSelections(selection.selectionSet);
    const name = selection.name.value;
    if (visited.has(name)) return null;
    visited.add(name);
    return inSelections(fragments.get(name)?.selectionSet);
  };
  const inField = (field: FieldNode): Finding | null =>
    inArguments(field.name.value, field.arguments) ?? inSelections(field.selectionSet);

  return (
    (operation.directives ?? []).reduce<Finding | null>(
      (found, directive) => found ?? inArguments(`@${directive.name.value}`, directive.arguments),
      null,
    ) ?? inSelections(operation.selectionSet)
  );
}

/** The BAD_USER_INPUT error for a refused string: HTTP 400, naming the argument path. */
export function refusedTextError(finding: Finding): GraphQLError {
  const field = finding.path.join(".");
  return new GraphQLError(
    `${finding.field}(${field}) contains ${finding.refused.codePoint}, ${EXPLANATION[finding.refused.kind]}`,
    { extensions: { code: "BAD_USER_INPUT", field, http: { status: 400 } } },
  );
}

/**
 * Applies the text rule to every string argument of an operation before anything runs. Once
 * Apollo Server has parsed and validated the document, so only the operation it will execute
 * is read; a refusal is HTTP 400 and no resolver is called, so nothing is written. Every
 * subgraph runs it (they may be called without the gateway), and the gateway too, so that a
 * refused operation never reaches a subgraph.
 */
export function useTextInputRule<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request }) {
          if (!operation) return;
          const finding = findRefusedArgument(document, operation, request.variables ?? {});
          if (finding) throw refusedTextError(finding);
        },
      };
    },
  };
}
