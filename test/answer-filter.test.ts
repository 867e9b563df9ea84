import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AnswerFilter, splitAnswer } from '../src/rag/answer-filter.js';
import { citationsIn, keepValidCitations } from '../src/rag/citations.js';

const allowed = new Set(['benefits.pdf#page=2', 'handbook.md', 'roles.pdf#page=7']);

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

  it('never emits << even when it arrives split across deltas', () => {
    const filter = new AnswerFilter(allowed);
    const emitted = ['Answer [handbook', '.md] here. <', '<Next question?>', '>'].map((delta) => filter.push(delta)).join('');
    const end = filter.finish();
    expect(emitted + end.text).toBe('Answer [handbook.md] here.');
    expect(emitted).not.toContain('<');
    expect(end.followupQuestions).toEqual(['Next question?']);
  });

  it('gives the same result however the answer is split into deltas (property)', () => {
    const pieces = fc.constantFrom('Plan ', 'covers ', '[benefits.pdf#page=2]', '[fake.pdf]', ' ', '.', '<<', '>>', 'Why?', '[', ']', '\n', 'a');
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 10 }), (parts, cuts) => {
        const text = parts.join('');
        const whole = splitAnswer(text, allowed);
        const points = [...new Set(cuts.map((cut) => cut % (text.length + 1)))].sort((a, b) => a - b);
        const filter = new AnswerFilter(allowed);
        let emitted = '';
        let last = 0;
        for (const point of [...points, text.length]) {
          emitted += filter.push(text.slice(last, point));
          last = point;
        }
        const end = filter.finish();
        expect((emitted + end.text).trim()).toBe(whole.content);
        expect(end.followupQuestions).toEqual(whole.followupQuestions);
        expect(emitted).not.toContain('<<');
        for (const cited of citationsIn(emitted + end.text)) expect(allowed.has(cited)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
