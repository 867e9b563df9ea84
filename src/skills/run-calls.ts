// Runs one model message's tool calls: in parallel, each validated, each with a timeout. Nothing a skill
// does can fail the turn: a bad call becomes a tool result that says what went wrong, for the model to read.
import type { ToolCall } from '../model/types.js';
import { InvalidArguments, type Skill, type SkillContext } from './types.js';

/** Most characters of one tool result sent to the model and stored; longer results are cut with a note. */
export const MAX_TOOL_RESULT_CHARS = 16_000;

export interface CallOutcome {
  call: ToolCall;
  /** What the model reads as the tool message. */
  content: string;
  ok: boolean;
  /** Why it failed, in a few words (for the SSE event and logs). */
  error?: 'invalid_arguments' | 'unknown_tool' | 'failed' | 'timed_out';
  sources: string[];
  durationMs: number;
}

export interface RunCallsOptions {
  skills: ReadonlyMap<string, Skill>;
  context: Omit<SkillContext, 'callId' | 'signal'>;
  signal?: AbortSignal;
  timeoutMs: number;
  log: (message: string) => void;
}

function cut(text: string): string {
  if (text.length <= MAX_TOOL_RESULT_CHARS) return text;
  return `${text.slice(0, MAX_TOOL_RESULT_CHARS)}\n[result cut at ${MAX_TOOL_RESULT_CHARS} characters]`;
}

const failure = (message: string) => JSON.stringify({ error: message });

function parseArguments(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    // Some models send "" for a call without parameters.
    return { ok: true, value: text.trim() === '' ? {} : JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

async function runOne(call: ToolCall, options: RunCallsOptions): Promise<CallOutcome> {
  const started = performance.now();
  const done = (partial: Omit<CallOutcome, 'call' | 'durationMs' | 'sources'> & { sources?: string[] }): CallOutcome => ({
    call,
    sources: [],
    ...partial,
    content: cut(partial.content),
    durationMs: Math.round(performance.now() - started),
  });
  const skill = options.skills.get(call.name);
  if (skill == null) {
    return done({ ok: false, error: 'unknown_tool', content: failure(`There is no tool named "${call.name}". Use one of: ${[...options.skills.keys()].join(', ') || 'none'}.`) });
  }
  const args = parseArguments(call.arguments);
  if (!args.ok) return done({ ok: false, error: 'invalid_arguments', content: failure(`The arguments of ${call.name} are not valid JSON; send a JSON object matching its parameters.`) });
  const timeout = new AbortController();
  const signal = options.signal == null ? timeout.signal : AbortSignal.any([options.signal, timeout.signal]);
  let timer: NodeJS.Timeout | undefined;
  // A skill that ignores its signal still cannot hold the turn past the timeout.
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      timeout.abort(new Error('tool call timed out'));
      resolve('timeout');
    }, options.timeoutMs);
  });
  try {
    const result = await Promise.race([skill.invoke(args.value, { ...options.context, callId: call.id, signal }), timedOut]);
    if (result === 'timeout') {
      options.log(`Tool ${call.name} (${call.id}) timed out after ${options.timeoutMs} ms.`);
      return done({ ok: false, error: 'timed_out', content: failure(`${call.name} did not finish within ${options.timeoutMs} ms.`) });
    }
    return done({ ok: true, content: result.content, sources: result.sources ?? [] });
  } catch (error: unknown) {
    if (error instanceof InvalidArguments) {
      return done({ ok: false, error: 'invalid_arguments', content: failure(`Invalid arguments for ${call.name}: ${error.message}`) });
    }
    // The model learns that the tool failed, not why in detail: messages of storage or search errors can
    // carry internals. The log has the reason.
    options.log(`Tool ${call.name} (${call.id}) failed: ${error instanceof Error ? error.message : String(error)}`);
    return done({ ok: false, error: 'failed', content: failure(`${call.name} failed; tell the user it could not be done right now.`) });
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every call at once; outcomes come back in the calls' order. */
export function runToolCalls(calls: ToolCall[], options: RunCallsOptions): Promise<CallOutcome[]> {
  return Promise.all(calls.map((call) => runOne(call, options)));
}
