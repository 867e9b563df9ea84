// Pure parts of the tool loop: parallel calls, timeouts, failures, the history window, streamed call assembly.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { historyWindow } from '../src/chats/turn.js';
import { runToolCalls } from '../src/skills/run-calls.js';
import { defineSkill, type Skill, type SkillServices } from '../src/skills/types.js';
import { skillTool } from '../src/skills/registry.js';
import { searchDocuments } from '../src/skills/search-documents.js';
import { directives } from './support/tool-driver.js';

const services: SkillServices = {
  model: () => Promise.reject(new Error('no model here')),
  searchIndex: () => Promise.reject(new Error('no index here')),
  todoTable: () => Promise.reject(new Error('no table here')),
  settings: { embeddingsEnabled: false, rag: { historyTokens: 8000, maxOutputTokens: 1024, modelContextTokens: 128_000, requireAccessControl: false } },
};
const context = { chatId: 'c1', caller: { groups: [] }, services };
const logs: string[] = [];
const options = (skills: Skill[], timeoutMs = 2_000) => ({ skills: new Map(skills.map((skill) => [skill.name, skill])), context, timeoutMs, log: (line: string) => logs.push(line) });

describe('runToolCalls', () => {
  it('runs the calls of one message at the same time', async () => {
    // Each call waits until both have started: run one after the other, the first would time out.
    let started = 0;
    let release: () => void = () => undefined;
    const bothStarted = new Promise<void>((resolve) => (release = resolve));
    const barrier = defineSkill({
      name: 'barrier',
      description: 'waits for its sibling',
      parameters: z.object({ n: z.number() }),
      async run({ n }) {
        started += 1;
        if (started === 2) release();
        await bothStarted;
        return { content: `done ${n}` };
      },
    });
    const outcomes = await runToolCalls(
      [{ id: 'a', name: 'barrier', arguments: '{"n":1}' }, { id: 'b', name: 'barrier', arguments: '{"n":2}' }],
      options([barrier], 1_000),
    );
    expect(outcomes.map((outcome) => [outcome.call.id, outcome.ok, outcome.content])).toEqual([['a', true, 'done 1'], ['b', true, 'done 2']]);
  });

  it('times out a skill that never finishes, even one that ignores its signal', async () => {
    const stuck = defineSkill({ name: 'stuck', description: 'never returns', parameters: z.object({}), run: () => new Promise(() => undefined) });
    const [outcome] = await runToolCalls([{ id: 'a', name: 'stuck', arguments: '' }], options([stuck], 50));
    expect(outcome).toMatchObject({ ok: false, error: 'timed_out' });
    expect(outcome!.content).toContain('did not finish within 50 ms');
  });

  it('turns a throwing skill into a result without its internals, and logs the reason', async () => {
    const broken = defineSkill({ name: 'broken', description: 'throws', parameters: z.object({}), run: () => Promise.reject(new Error('secret connection string AccountKey=abc')) });
    const [outcome] = await runToolCalls([{ id: 'a', name: 'broken', arguments: '{}' }], options([broken]));
    expect(outcome).toMatchObject({ ok: false, error: 'failed' });
    expect(outcome!.content).not.toContain('AccountKey');
    expect(logs.at(-1)).toContain('AccountKey=abc');
  });

  it('cuts a huge result to MAX_TOOL_RESULT_CHARS with a note', async () => {
    const big = defineSkill({ name: 'big', description: 'large', parameters: z.object({}), run: async () => ({ content: '€'.repeat(50_000) }) });
    const [outcome] = await runToolCalls([{ id: 'a', name: 'big', arguments: '{}' }], options([big]));
    expect(outcome!.content.length).toBeLessThan(16_100);
    expect(outcome!.content).toMatch(/\[result cut at 16000 characters\]$/);
  });
});

describe('historyWindow', () => {
  const message = (role: string, tokens = 10) => ({ role, tokens });
  it('never starts with a tool result whose call it dropped', () => {
    const history = [message('user'), message('assistant'), message('tool'), message('tool'), message('assistant'), message('user'), message('assistant')];
    // Room for the newest four: the window would start at the second tool message; it starts after it.
    expect(historyWindow(history, 40).map((entry) => entry.role)).toEqual(['assistant', 'user', 'assistant']);
    expect(historyWindow(history, 70).map((entry) => entry.role)).toEqual(['user', 'assistant', 'tool', 'tool', 'assistant', 'user', 'assistant']);
  });
  it('keeps a forced tail whatever the budget', () => {
    const history = [message('user'), message('assistant', 500), message('tool', 500)];
    expect(historyWindow(history, 0, 1).map((entry) => entry.role)).toEqual(['assistant', 'tool']);
  });
});

describe('skill schemas', () => {
  it('gives the model real names, required fields and types', () => {
    expect(skillTool(searchDocuments)).toEqual({
      type: 'function',
      function: {
        name: 'search_documents',
        description: searchDocuments.description,
        parameters: expect.objectContaining({
          type: 'object',
          required: ['query'],
          properties: { query: expect.objectContaining({ type: 'string', minLength: 1 }), top: expect.objectContaining({ type: 'integer', maximum: 10 }) },
        }),
      },
    });
  });
});

describe('tool driver directives', () => {
  it('reads balanced JSON arguments, parentheses in strings included', () => {
    expect(directives('call a({"t":"x (y)"}) then call b({}) call c(not json)')).toEqual([
      { name: 'a', arguments: '{"t":"x (y)"}' },
      { name: 'b', arguments: '{}' },
      { name: 'c', arguments: 'not json' },
    ]);
  });
});
