// What a chat completion and a stream chunk must look like for us to use them, checked with zod instead of
// trusting the SDK's types: a 200 can be a gateway's HTML sign-in page or `{}`, and providers differ in what
// they omit (llama.cpp sends no `id`, usage-only chunks have `"choices": []` or `"choices": null`).
import { z } from 'zod';

const usage = z
  .object({ prompt_tokens: z.number(), completion_tokens: z.number(), total_tokens: z.number().nullish() })
  .nullish()
  .catch(undefined);

const toolCall = z.object({
  id: z.string().nullish(),
  type: z.string().nullish(),
  function: z.object({ name: z.string(), arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish() }),
});

export const completionSchema = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({
          content: z.string().nullish(),
          refusal: z.string().nullish(),
          tool_calls: z.array(toolCall).nullish(),
        }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage,
});

const toolCallDelta = z.object({
  index: z.number().nullish(),
  id: z.string().nullish(),
  function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
});

export const chunkSchema = z.object({
  choices: z
    .array(
      z.object({
        delta: z
          .object({
            content: z.string().nullish(),
            refusal: z.string().nullish(),
            tool_calls: z.array(toolCallDelta).nullish(),
          })
          .nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage,
});

export type WireCompletion = z.infer<typeof completionSchema>;
export type WireChunk = z.infer<typeof chunkSchema>;

export const embeddingsSchema = z.object({
  // Values are checked by checkVectors (vectors.ts), which names what is wrong (JSON can carry 1e999 = Infinity).
  data: z.array(z.object({ index: z.number(), embedding: z.array(z.unknown()) })),
});
