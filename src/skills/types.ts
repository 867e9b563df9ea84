import type { TableClient } from '@azure/data-tables';
import { prettifyError, type z } from 'zod';
import type { ModelClient } from '../model/types.js';
import type { SearchIndex } from '../search/types.js';

// A skill is a function of the app that the model may call during a chat turn (API.md § Tools in chats).

/** Who is asking, as the platform vouched for it (never from the request body). */
export interface SkillCaller {
  oid?: string;
  groups: string[];
}

/** The app's clients and settings a skill may use; passed in, so tests can hand skills something else. */
export interface SkillServices {
  model: () => Promise<ModelClient>;
  searchIndex: () => Promise<SearchIndex>;
  todoTable: () => Promise<TableClient>;
  settings: {
    embeddingsEnabled: boolean;
    /** What retrieval checks its plan against (src/rag). */
    rag: { historyTokens: number; maxOutputTokens: number; modelContextTokens: number; requireAccessControl: boolean };
  };
}

export interface SkillContext {
  chatId: string;
  /** The model's id for this call; lets a skill make its effect idempotent per call. */
  callId: string;
  caller: SkillCaller;
  /** Aborted when the call times out or the client goes away. */
  signal: AbortSignal;
  services: SkillServices;
}

/** What a skill hands back: text for the model, and sources it retrieved (citations are checked against them). */
export interface SkillResult {
  content: string;
  sources?: string[];
}

export interface SkillDefinition<Parameters extends z.ZodType> {
  /** `^[a-zA-Z0-9_-]{1,64}$`, as OpenAI requires of function names. */
  name: string;
  description: string;
  /** Its JSON Schema (z.toJSONSchema) is what the model sees: real names, `required`, nested types. */
  parameters: Parameters;
  run(args: z.output<Parameters>, context: SkillContext): Promise<SkillResult>;
}

/** A registered skill: arguments go in as parsed JSON and are validated against the schema before it runs. */
export interface Skill {
  name: string;
  description: string;
  parameters: z.ZodType;
  invoke(args: unknown, context: SkillContext): Promise<SkillResult>;
}

/** Arguments that do not match a skill's schema: the model is told why, so it can correct them. */
export class InvalidArguments extends Error {
  override name = 'InvalidArguments';
}

/** Ties a skill's argument type to its schema, and validates arguments before `run` sees them. */
export function defineSkill<Parameters extends z.ZodType>(definition: SkillDefinition<Parameters>): Skill {
  return {
    name: definition.name,
    description: definition.description,
    parameters: definition.parameters,
    async invoke(args, context) {
      const parsed = definition.parameters.safeParse(args);
      if (!parsed.success) throw new InvalidArguments(prettifyError(parsed.error));
      return definition.run(parsed.data, context);
    },
  };
}
