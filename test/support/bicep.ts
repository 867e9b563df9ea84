import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Parser from 'tree-sitter';
import Bicep from 'tree-sitter-bicep';

// Bicep read with the tree-sitter grammar: no compiler is needed, so CI can check the infra offline.

export type SyntaxNode = Parser.SyntaxNode;

const parser = new Parser();
parser.setLanguage(Bicep as Parser.Language);

export interface BicepFile {
  file: string;
  root: SyntaxNode;
}

export function parseBicep(text: string, file = '<inline>'): BicepFile {
  return { file, root: parser.parse(text).rootNode };
}

export function readBicep(file: string): BicepFile {
  return parseBicep(readFileSync(file, 'utf8'), file);
}

/** Every .bicep file under `dir`, recursively. */
export function bicepFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.bicep'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

/** ERROR and MISSING nodes, as `line:column what`. */
export function syntaxProblems(bicep: BicepFile): string[] {
  const problems: string[] = [];
  const visit = (node: SyntaxNode): void => {
    if (node.type === 'ERROR' || node.isMissing) {
      const where = `${node.startPosition.row + 1}:${node.startPosition.column + 1}`;
      problems.push(`${where} ${node.isMissing ? `missing ${node.type}` : `unexpected ${JSON.stringify(node.text.slice(0, 60))}`}`);
    }
    for (const child of node.children) visit(child);
  };
  visit(bicep.root);
  return problems;
}

function topLevel(bicep: BicepFile, type: string): SyntaxNode[] {
  return bicep.root.namedChildren.filter((node) => node.type === type);
}

function nameOf(node: SyntaxNode): string {
  const identifier = node.namedChildren.find((child) => child.type === 'identifier');
  if (identifier == null) throw new Error(`${node.type} without a name at line ${node.startPosition.row + 1}`);
  return identifier.text;
}

/** Text of a string literal without quotes; undefined for anything else (interpolations included). */
export function stringValue(node: SyntaxNode | undefined): string | undefined {
  if (node?.type !== 'string' || node.namedChildren.some((child) => child.type !== 'string_content')) return undefined;
  return node.namedChildren.map((child) => child.text).join('');
}

/** A string literal with each `${expression}` shown as `<expression>`, for comparing settings. */
export function renderString(node: SyntaxNode): string | undefined {
  if (node.type !== 'string') return undefined;
  return node.namedChildren
    .map((child) => (child.type === 'interpolation' ? `<${child.namedChildren.map((inner) => inner.text).join('')}>` : child.text))
    .join('');
}

export interface Parameter {
  name: string;
  /** The default value's node, when the parameter has one. */
  defaultValue?: SyntaxNode;
}

export function parameters(bicep: BicepFile): Parameter[] {
  return topLevel(bicep, 'parameter_declaration').map((node) => {
    // name, type, then the default value if there is one
    return { name: nameOf(node), defaultValue: node.namedChildren[2] };
  });
}

export function variable(bicep: BicepFile, name: string): SyntaxNode {
  const node = topLevel(bicep, 'variable_declaration').find((declaration) => nameOf(declaration) === name);
  const value = node?.namedChildren.at(-1);
  if (value == null) throw new Error(`${bicep.file}: no variable ${name}`);
  return value;
}

export function outputs(bicep: BicepFile): string[] {
  return topLevel(bicep, 'output_declaration').map(nameOf);
}

export interface Resource {
  symbol: string;
  /** e.g. `Microsoft.Web/sites@2024-04-01`. */
  type: string;
  /** The body: the object, or the object inside a `for` or `if`. */
  body: SyntaxNode;
}

function bodyOf(node: SyntaxNode): SyntaxNode {
  const last = node.namedChildren.at(-1);
  if (last == null) throw new Error(`empty declaration at line ${node.startPosition.row + 1}`);
  if (last.type === 'object') return last;
  const inner = last.namedChildren.filter((child) => child.type === 'object').at(-1);
  if (inner == null) throw new Error(`no body for the declaration at line ${node.startPosition.row + 1}`);
  return inner;
}

export function resources(bicep: BicepFile): Resource[] {
  return topLevel(bicep, 'resource_declaration').map((node) => ({
    symbol: nameOf(node),
    type: stringValue(node.namedChildren.find((child) => child.type === 'string')) ?? '',
    body: bodyOf(node),
  }));
}

export function resourcesOfType(bicep: BicepFile, type: string): Resource[] {
  return resources(bicep).filter((resource) => resource.type.split('@')[0]?.toLowerCase() === type.toLowerCase());
}

export interface Module {
  symbol: string;
  path: string;
  params: Map<string, SyntaxNode>;
}

export function modules(bicep: BicepFile): Module[] {
  return topLevel(bicep, 'module_declaration').map((node) => {
    const body = bodyOf(node);
    const params = property(body, 'params');
    return {
      symbol: nameOf(node),
      path: stringValue(node.namedChildren.find((child) => child.type === 'string')) ?? '',
      params: params?.type === 'object' ? objectProperties(params) : new Map(),
    };
  });
}

/** The properties of an object literal, keyed by name. */
export function objectProperties(object: SyntaxNode): Map<string, SyntaxNode> {
  const properties = new Map<string, SyntaxNode>();
  for (const entry of object.namedChildren) {
    if (entry.type !== 'object_property') continue;
    const [key, value] = entry.namedChildren;
    if (key == null || value == null) continue;
    properties.set(key.type === 'string' ? (stringValue(key) ?? key.text) : key.text, value);
  }
  return properties;
}

/** A nested property by dotted path (`properties.functionAppConfig.runtime`). */
export function property(object: SyntaxNode, dottedPath: string): SyntaxNode | undefined {
  let current: SyntaxNode | undefined = object;
  for (const key of dottedPath.split('.')) {
    if (current?.type !== 'object') return undefined;
    current = objectProperties(current).get(key);
  }
  return current;
}
