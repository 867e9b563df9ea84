import { z } from 'zod';
import { findSkill, skillNames } from './registry.js';

// What PUT /api/chats/{chatId} accepts about tools (API.md § Tools in chats), validated before anything is stored.

export const MAX_CLIENT_TOOLS = 32;
/** JSON of all client tools together; they live in the chat's state row (1 MiB per entity). */
export const MAX_CLIENT_TOOLS_CHARS = 200_000;

/** OpenAI's rule for function names. */
const functionName = z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1-64 characters from a-z A-Z 0-9 _ -');

export const skillsField = z
  .array(z.string())
  .max(50)
  .superRefine((names, ctx) => {
    for (const [index, name] of names.entries()) {
      if (findSkill(name) == null) ctx.addIssue({ code: 'custom', path: [index], message: `unknown skill "${name}"; known: ${skillNames().join(', ')}` });
      else if (names.indexOf(name) !== index) ctx.addIssue({ code: 'custom', path: [index], message: `"${name}" is listed twice` });
    }
  });

const clientTool = z.object({
  type: z.literal('function'),
  function: z.object({
    name: functionName,
    description: z.string().max(1024).optional(),
    /** A JSON Schema object, passed to the model as it is. */
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});

export const clientToolsField = z
  .array(clientTool)
  .max(MAX_CLIENT_TOOLS, `at most ${MAX_CLIENT_TOOLS} tools`)
  .superRefine((tools, ctx) => {
    const names = tools.map((tool) => tool.function.name);
    for (const [index, name] of names.entries()) {
      if (names.indexOf(name) !== index) ctx.addIssue({ code: 'custom', path: [index, 'function', 'name'], message: `"${name}" is used by another tool` });
      if (findSkill(name) != null) ctx.addIssue({ code: 'custom', path: [index, 'function', 'name'], message: `"${name}" is the name of a server skill; pick another name` });
    }
    if (JSON.stringify(tools).length > MAX_CLIENT_TOOLS_CHARS) ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_CLIENT_TOOLS_CHARS} characters of JSON together` });
  });

export const modelOverridesField = z.object({
  temperature: z.number().min(0).max(2).optional(),
  maxOutputTokens: z.number().int().min(1).max(128_000).optional(),
});

export const toolOutputsField = z
  .array(z.object({ toolCallId: z.string().min(1).max(256), output: z.string() }))
  .min(1, 'must hold at least one output')
  .max(64);
