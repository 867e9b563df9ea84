import { stem } from 'porter2';

// Term processing for the local BM25 index, shared by indexing and queries: contractions are split into
// their words ("what's" → "what", "don't" → "do not") instead of leaving stray "s" and "t" terms, common
// English stop words are dropped, and the rest is stemmed with Porter2 (the Snowball English stemmer), so
// "cleaned" meets "cleanings" and "covered" meets "cover".

/** Bumped whenever tokenizing or term processing changes: a stored index of another version is re-indexed. */
export const TERMS_VERSION = 2;

const stopWords = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between both ' +
    'but by can could did do does doing down during each few for from further had has have having he her here hers ' +
    'herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on ' +
    'once only or other our ours ourselves out over own same she should so some such than that the their theirs them ' +
    'themselves then there these they this those through to too under until up very was we were what when where ' +
    'which while who whom why will with would you your yours yourself yourselves'
  ).split(' '),
);

/** Words and numbers; everything else (spaces, punctuation, symbols) separates terms, as minisearch does. */
const TERM = /[\p{L}\p{M}\p{N}]+/gu;
const APOSTROPHE = /['’ʼ]/g;
const IRREGULAR_NEGATIONS: Record<string, string> = { "can't": 'can not', "won't": 'will not', "shan't": 'shall not', "ain't": 'is not' };

/** Splits text into terms, expanding contractions and dropping possessive "'s". */
export function tokenize(text: string): string[] {
  const normalized = text
    .replace(APOSTROPHE, "'")
    .replace(/\b(can|won|shan|ain)'t\b/gi, (match) => IRREGULAR_NEGATIONS[match.toLowerCase()] ?? match)
    .replace(/n't\b/gi, ' not')
    .replace(/'(s|re|ll|ve|d|m)\b/gi, '');
  return normalized.match(TERM) ?? [];
}

/** minisearch `processTerm`: null drops the term. */
export function processTerm(term: string): string | null {
  const lower = term.toLowerCase();
  if (lower === '' || stopWords.has(lower)) return null;
  return stem(lower);
}

