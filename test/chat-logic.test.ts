import { describe, expect, it } from 'vitest';
import { contentProperties, fitRow, joinContent, PROPERTY_CHARS, ROW_CONTENT_CHARS, splitText } from '../src/chats/content.js';
import { generationOfRowKey, messageRowKey, messageRowRange, sequenceOfRowKey } from '../src/chats/keys.js';
import { countTokens, fitHistory, messageTokens } from '../src/model/tokens.js';
import { HISTORY_PAGE_SIZE, historyPageSize, historyShape } from '../src/chats/reads.js';
import type { ChatState } from '../src/chats/types.js';

describe('countTokens', () => {
  it('counts with the o200k_base encoding', () => {
    expect(countTokens('hello world')).toBe(2);
    expect(countTokens('')).toBe(0);
  });

  it('counts special-token strings in user text as plain text instead of throwing', () => {
    const text = 'before <|endoftext|> after <|im_start|>';
    expect(countTokens(text)).toBeGreaterThan(4);
  });

  it('ignores byte-order marks', () => {
    expect(countTokens('\uFEFFhello world')).toBe(countTokens('hello world'));
  });

  it('adds the per-message overhead', () => {
    expect(messageTokens('hello world')).toBe(countTokens('hello world') + 4);
  });
});

describe('fitHistory', () => {
  const message = (role: string, tokens: number, id: string) => ({ role, tokens, id });
  const tokensOf = (m: { tokens: number }) => m.tokens;

  it('keeps the system message and the newest messages that fit, in order', () => {
    const conversation = [
      message('system', 10, 's'),
      message('user', 10, 'u1'),
      message('assistant', 10, 'a1'),
      message('user', 10, 'u2'),
      message('assistant', 10, 'a2'),
      message('user', 10, 'u3'),
    ];
    // 3 priming + 10 system + 10 newest = 23; room for two more of 10 within 45.
    expect(fitHistory(conversation, { budget: 45, tokensOf }).map((m) => m.id)).toEqual(['s', 'u2', 'a2', 'u3']);
  });

  it('always keeps the newest message and the system message, even over budget', () => {
    const conversation = [message('system', 50, 's'), message('user', 50, 'old'), message('user', 50, 'new')];
    expect(fitHistory(conversation, { budget: 10, tokensOf }).map((m) => m.id)).toEqual(['s', 'new']);
  });

  it('never skips a message to fit an older one (no gaps)', () => {
    const conversation = [message('user', 1, 'tiny-old'), message('assistant', 100, 'big'), message('user', 1, 'new')];
    expect(fitHistory(conversation, { budget: 50, tokensOf }).map((m) => m.id)).toEqual(['new']);
  });

  it('handles an empty conversation and one without a system message', () => {
    expect(fitHistory([], { budget: 10, tokensOf })).toEqual([]);
    expect(fitHistory([message('user', 1, 'a'), message('user', 1, 'b')], { budget: 100, tokensOf }).map((m) => m.id)).toEqual(['a', 'b']);
  });
});

describe('chat table keys', () => {
  it('sorts newer messages first within a generation', () => {
    const keys = [1, 2, 10, 999, 1000].map((sequence) => messageRowKey('g1', sequence));
    expect([...keys].sort()).toEqual([...keys].reverse());
    expect(keys.map(sequenceOfRowKey)).toEqual([1, 2, 10, 999, 1000]);
  });

  it('puts every key of a generation inside its range and none of another', () => {
    const range = messageRowRange('abc');
    const inside = messageRowKey('abc', 5);
    const other = messageRowKey('abcd', 5);
    expect(inside >= range.from && inside < range.to).toBe(true);
    expect(other >= range.from && other < range.to).toBe(false);
    expect('state' >= range.to).toBe(true);
    expect(generationOfRowKey(inside)).toBe('abc');
    expect(generationOfRowKey('state')).toBeUndefined();
  });

  it('rejects generations that could escape the range', () => {
    expect(() => messageRowKey("a'b", 1)).toThrow();
    expect(() => messageRowKey('g', 0)).toThrow();
  });
});

describe('message content across properties', () => {
  it('splits long text into properties under the 64 KiB limit and joins it back', () => {
    const text = 'x'.repeat(PROPERTY_CHARS * 2 + 5);
    const properties = contentProperties(text);
    expect(properties.contentParts).toBe(3);
    for (const value of Object.values(properties)) if (typeof value === 'string') expect(value.length).toBeLessThanOrEqual(PROPERTY_CHARS);
    expect(joinContent(properties)).toBe(text);
  });

  it('never splits a surrogate pair', () => {
    const text = 'a' + '😀'.repeat(PROPERTY_CHARS);
    const pieces = splitText(text);
    for (const piece of pieces) {
      expect(piece.length).toBeLessThanOrEqual(PROPERTY_CHARS);
      expect(/[\uD800-\uDBFF]$/.test(piece)).toBe(false);
    }
    expect(pieces.join('')).toBe(text);
  });

  it('stores empty text as one empty property', () => {
    expect(joinContent(contentProperties(''))).toBe('');
  });

  it('cuts text beyond one row and says so', () => {
    const long = fitRow('y'.repeat(ROW_CONTENT_CHARS + 10));
    expect(long.truncated).toBe(true);
    expect(long.text.length).toBe(ROW_CONTENT_CHARS);
    expect(fitRow('short')).toEqual({ text: 'short', truncated: false });
  });
});

describe('historyPageSize', () => {
  const state = (fields: Partial<ChatState>) => historyShape({
    chatId: 'c', generation: 'g', instructions: null, createdAt: '', lastUpdatedAt: '', totalMessages: 0, totalTokens: 0,
    messageTokens: 0, usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 }, etag: '', sweepPending: false,
    tools: { skills: [], clientTools: [] }, ...fields,
  } satisfies ChatState);
  it('asks for one page that fills the default budget with ~100-token messages (not two pages of 50)', () => {
    expect(historyPageSize(state({ totalMessages: 2000, messageTokens: 200_000 }), 8000)).toBe(102);
  });
  it('leaves the instructions out of the average when their count is known', () => {
    expect(historyPageSize(state({ instructions: 'x', instructionTokens: 5000, totalMessages: 101, messageTokens: 15_000 }), 1000)).toBe(15);
  });
  it('falls back to HISTORY_PAGE_SIZE on a state row without a token sum', () => {
    expect(historyPageSize(state({ totalMessages: 40, messageTokens: 0 }), 8000)).toBe(HISTORY_PAGE_SIZE);
  });
});
