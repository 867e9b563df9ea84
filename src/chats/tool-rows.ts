import { z } from 'zod';

// Shapes of the tool data kept in chat rows, parsed back into our own types when read.

export const toolCallList = z.array(z.object({ id: z.string(), name: z.string(), arguments: z.string() }));

export const stringList = z.array(z.string());

/** A client tool as stored: the OpenAI function-tool shape PUT accepted. */
export const toolDefinitionList = z.array(
  z.object({
    type: z.literal('function'),
    function: z.object({ name: z.string(), description: z.string().optional(), parameters: z.record(z.string(), z.unknown()).optional() }),
  }),
);
