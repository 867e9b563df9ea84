import { describe, expect, it } from 'vitest';
import { stripBoilerplate } from '../src/ingest/boilerplate.js';
import { processTerm, tokenize } from '../src/search/text-terms.js';

const terms = (text: string) => tokenize(text).flatMap((term) => processTerm(term) ?? []);

describe('search terms', () => {
  it('meets word forms with a stemmer, not plural folding', () => {
    // Before: "cleaned" and "cleanings" stayed apart, as did "covered" and "cover".
    expect(terms('cleaned covered deductable')).toEqual(terms('cleanings cover deductible'));
  });

  it('splits contractions into words instead of leaving stray letters', () => {
    // Before: "What's" left an "s" term and "don't" a "t" that matched other pages.
    expect(terms("What's covered? I don't know, it isn't. The company’s plan, can't")).toEqual(['cover', 'know', 'compani', 'plan']);
    expect(tokenize("won't")).toEqual(['will', 'not']);
  });
});

describe('boilerplate', () => {
  const footer = (page: number) => `Employee Handbook - page ${page} of 4`;
  const topics = ['pay', 'leave', 'safety', 'conduct'];
  const pages = [1, 2, 3, 4].map((page) => ({
    page,
    text: `About ${topics[page - 1]}\nIntroduction to ${topics[page - 1]}.\nResponsibilities:\nBody text ${page} about ${topics[page - 1]}.\nSee also the ${topics[page - 1]} form.\n${footer(page)}`,
  }));

  it('strips a line repeated at the edge of most pages, keeping page numbers and content', () => {
    const stripped = stripBoilerplate(pages);
    expect(stripped.map((page) => page.page)).toEqual([1, 2, 3, 4]);
    for (const page of stripped) {
      expect(page.text).not.toContain('Employee Handbook - page');
      // Repeated inside the page, not at its edge: content.
      expect(page.text).toContain('Responsibilities:');
      expect(page.text).toContain(`Body text ${page.page}`);
    }
  });

  it('leaves short documents and documents that are only repetition alone', () => {
    expect(stripBoilerplate(pages.slice(0, 2))).toEqual(pages.slice(0, 2));
    const slides = [1, 2, 3].map((page) => ({ page, text: 'Quarterly review' }));
    expect(stripBoilerplate(slides)).toEqual(slides);
  });
});
