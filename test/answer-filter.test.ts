import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AnswerFilter, splitAnswer } from '../src/rag/answer-filter.js';
import { citationsIn, keepValidCitations, looksLikeSourceReference } from '../src/rag/citations.js';

const allowed = new Set(['benefits.pdf#page=2', 'handbook.md', 'roles.pdf#page=7']);

/** Streams `text` to a filter in the given pieces and returns everything it emitted. */
function streamed(pieces: string[], followups = true) {
  const filter = new AnswerFilter(allowed, { followups });
  let emitted = '';
  for (const piece of pieces) emitted += filter.push(piece);
  const end = filter.finish();
  return { content: emitted + end.text, emittedBeforeEnd: emitted, followupQuestions: end.followupQuestions };
}

/** Every way of cutting `text` into two deltas, plus one delta per character. */
function splits(text: string): string[][] {
  const ways = [[...text]];
  for (let cut = 0; cut <= text.length; cut++) ways.push([text.slice(0, cut), text.slice(cut)]);
  return ways;
}

describe('citations', () => {
  it('keeps retrieved sources and removes invented ones with their space', () => {
    expect(keepValidCitations('Eye exams are covered [benefits.pdf#page=2] once a year [made-up.pdf].', allowed)).toBe(
      'Eye exams are covered [benefits.pdf#page=2] once a year.',
    );
  });

  it('splits combined citations and leaves markdown links alone', () => {
    expect(keepValidCitations('See [benefits.pdf#page=2, handbook.md] and [docs](https://x.y).', allowed)).toBe(
      'See [benefits.pdf#page=2][handbook.md] and [docs](https://x.y).',
    );
  });

  it('removes only brackets that look like a source reference', () => {
    // Before the fix, every bracket that was not a retrieved source was deleted: `items[0]` became `items`.
    expect(keepValidCitations('Use items[0] [sic], see note [1] and [^2], [Ed. note] or [3.5].', allowed)).toBe(
      'Use items[0] [sic], see note [1] and [^2], [Ed. note] or [3.5].',
    );
    expect(keepValidCitations('Call it [a.pdf; roles.pdf#page=7] or [policy.docx#page=12] now.', allowed)).toBe('Call it [roles.pdf#page=7] or now.');
  });

  it('recognises source references', () => {
    for (const name of ['a.pdf', 'benefits.pdf#page=2', 'Employee Handbook 2024.pdf', 'it-faq.md', 'x.html']) expect(looksLikeSourceReference(name)).toBe(true);
    for (const text of ['0', 'sic', '1', '^2', '3.5', 'Ed. note', 'a.pdf#page=x', ' a.pdf', 'i', '"a.json"']) expect(looksLikeSourceReference(text)).toBe(false);
  });

  it('lists citations once each in order', () => {
    expect(citationsIn('[a][b] and [a]')).toEqual(['a', 'b']);
  });
});

describe('answer filter', () => {
  it('splits follow-up questions out of a complete answer', () => {
    const { content, followupQuestions } = splitAnswer(
      'Your deductible is $750 [benefits.pdf#page=2].\n\n<<What about dental?>> <<Is vision included?>>',
      allowed,
    );
    expect(content).toBe('Your deductible is $750 [benefits.pdf#page=2].');
    expect(followupQuestions).toEqual(['What about dental?', 'Is vision included?']);
  });

  it('leaves << alone that is not a trailing follow-up group, and all of it when none were requested', () => {
    // Before the fix everything from the first `<<` on was cut: `std::cout << x;` ended the answer.
    const cpp = 'Print it with `std::cout << x;` or:\n\n```cpp\nstd::cout << x << std::endl;\n```\n\nThen x << 2 is shifted.';
    expect(splitAnswer(cpp, allowed)).toEqual({ content: cpp, followupQuestions: [] });
    const withQuestions = `${cpp}\n<<Why?>>`;
    expect(splitAnswer(withQuestions, allowed)).toEqual({ content: cpp, followupQuestions: ['Why?'] });
    expect(splitAnswer(withQuestions, allowed, { followups: false })).toEqual({ content: withQuestions, followupQuestions: [] });
    // Only the groups at the end: one in the middle stays.
    expect(splitAnswer('Ask <<this>> first. <<Next?>>', allowed).content).toBe('Ask <<this>> first.');
  });

  it('never emits the follow-ups even when << arrives split across deltas', () => {
    const result = streamed(['Answer [handbook', '.md] here. <', '<Next question?>', '>']);
    expect(result.content).toBe('Answer [handbook.md] here.');
    expect(result.emittedBeforeEnd).not.toContain('<');
    expect(result.followupQuestions).toEqual(['Next question?']);
  });

  it('leaves brackets in code alone', () => {
    const answer = 'Run `cat [fake.pdf]` first.\n\n~~~\nlist[made-up.md] = 1 [x.pdf]\n~~~\nDone [fake.pdf].';
    expect(splitAnswer(answer, allowed).content).toBe('Run `cat [fake.pdf]` first.\n\n~~~\nlist[made-up.md] = 1 [x.pdf]\n~~~\nDone.');
  });
});

// Fragments an answer may contain that must come through untouched: code blocks, markdown, JSON and C++,
// with brackets and `<<` in every place a naive filter would take them for citations or follow-ups.
const intact = fc.constantFrom(
  'The plan covers it [benefits.pdf#page=2].',
  'See [handbook.md][roles.pdf#page=7].',
  'std::cout << x;',
  'Use `std::cout << "[fake.pdf]" << x;` here.',
  '\n```cpp\n#include <iostream>\nint main() { int v[3] = {1, 2, 3}; std::cout << v[0] << "<<q>>" << std::endl; }\n```\n',
  '\n```json\n{"items": [1, 2], "file": ["a.pdf"], "nested": {"k": [[0]]}}\n```\n',
  '\n```\n[made-up.pdf] and <<not a question>>\n```\n',
  '{"items": [1, 2], "files": ["x.pdf"]}',
  'items[0] and map[key.txt] stay.',
  'A quote [sic] and a footnote [1] and [^2].',
  '[a link](https://example.com/fake.pdf) and [another][ref]',
  '# Heading\n\n- bullet one\n- **bold** and _italic_ and ~~struck~~',
  '| col [1] | col 2 |\n|---|---|\n| a<<b | c |',
  '> quoted << text',
  'if (a << 2 > b) { return a[i]; }',
  'Shift: x <<= 1; y >>= 2;',
  '1 < 2 and 3 > 2',
  '\n',
);
const separator = fc.constantFrom(' ', '\n', '\n\n');
const answerOf = (parts: string[], separators: string[]) =>
  parts.map((part, index) => (index === 0 ? part : `${separators[index % separators.length] ?? ' '}${part}`)).join('');

describe('answer filter properties', () => {
  it('leaves an answer without invented citations or trailing follow-ups exactly as written', () => {
    fc.assert(
      fc.property(fc.array(intact, { minLength: 1, maxLength: 6 }), fc.array(separator, { minLength: 1, maxLength: 6 }), fc.boolean(), (parts, separators, followups) => {
        const text = answerOf(parts, separators);
        expect(splitAnswer(text, allowed, { followups }).content).toBe(text.trim());
      }),
      { numRuns: 400 },
    );
  });

  it('removes exactly the invented citations, wherever they are', () => {
    const word = fc.constantFrom('deductible', 'items[0]', '`a[b.pdf]`', 'std::cout << x;', '[sic]', '[1]', '[handbook.md]', '[benefits.pdf#page=2]', 'is');
    const invented = fc.constantFrom('[fake.pdf]', '[made-up.pdf#page=4]', '[fake.pdf, other.md]', '[x.docx; y.txt]');
    const token = fc.oneof(
      { arbitrary: word.map((text) => ({ text, invented: false })), weight: 3 },
      { arbitrary: invented.map((text) => ({ text, invented: true })), weight: 1 },
    );
    fc.assert(
      fc.property(fc.array(token, { minLength: 1, maxLength: 12 }), fc.constantFrom('.', '', ' end.'), (tokens, ending) => {
        const text = tokens.map((token) => token.text).join(' ') + ending;
        const expected = tokens
          .filter((token) => !token.invented)
          .map((token) => token.text)
          .join(' ') + ending;
        expect(splitAnswer(text, allowed).content).toBe(expected.trim());
      }),
      { numRuns: 400 },
    );
  });

  it('gives the same result however the answer is split into deltas, at every position', () => {
    const piece = fc.oneof(intact, fc.constantFrom('[fake.pdf]', ' [made-up.md#page=3]', '[', ']', '`', '```', '<', '<<', '>>', ' ', '\n', 'a'));
    const trailing = fc.array(fc.constantFrom('<<What about dental?>>', ' <<Is vision included?>>', '\n<<Who approves it?>>'), { maxLength: 3 });
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), trailing, fc.boolean(), (parts, questions, followups) => {
        const text = parts.join('') + questions.join('');
        const whole = splitAnswer(text, allowed, { followups });
        for (const pieces of splits(text)) {
          const result = streamed(pieces, followups);
          expect(result.content).toBe(whole.content);
          expect(result.followupQuestions).toEqual(whole.followupQuestions);
        }
        // Outside code, requested trailing questions are always split off.
        if (followups && questions.length > 0 && !text.includes('`')) expect(whole.followupQuestions.length).toBeGreaterThan(0);
      }),
      { numRuns: 60 },
    );
  });
});
