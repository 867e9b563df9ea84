import { z } from 'zod';
import type { ToolDefinition } from '../model/types.js';
import { searchDocuments } from './search-documents.js';
import { todoAdd, todoComplete, todoList } from './todo.js';
import type { Skill } from './types.js';

// The app's skills, by name. A chat lists the ones it may use at PUT (`skills`); nothing is on by default.

const builtIn: Skill[] = [searchDocuments, todoAdd, todoList, todoComplete];

const registry = new Map<string, Skill>(builtIn.map((skill) => [skill.name, skill]));

export function skillNames(): string[] {
  return [...registry.keys()];
}

export function findSkill(name: string): Skill | undefined {
  return registry.get(name);
}

/** Built once per skill: converting its zod schema cost a chat turn with tools more than the rest of zod's work. */
const tools = new WeakMap<Skill, ToolDefinition>();

/** The tool definition the model sees for a skill: its description and the JSON Schema of its parameters. */
export function skillTool(skill: Skill): ToolDefinition {
  let tool = tools.get(skill);
  if (tool == null) {
    const { $schema: _schema, ...parameters } = z.toJSONSchema(skill.parameters, { target: 'draft-7', io: 'input' });
    tool = { type: 'function', function: { name: skill.name, description: skill.description, parameters } };
    tools.set(skill, tool);
  }
  return tool;
}
