// Term processing for the local BM25 index: lowercase, drop common English stop words, and fold simple
// plurals ("exams" → "exam", "policies" → "policy") so a question's wording meets the document's.

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

/** Folds regular English plurals; words of four letters or fewer are left alone ("bus", "plus", "was"). */
export function foldPlural(term: string): string {
  if (term.length <= 4) return term;
  if (term.endsWith('ies')) return `${term.slice(0, -3)}y`;
  if (/(ss|us|is)$/.test(term)) return term;
  if (term.endsWith('s')) return term.slice(0, -1);
  return term;
}

/** minisearch `processTerm`: null drops the term. */
export function processTerm(term: string): string | null {
  const lower = term.toLowerCase();
  if (lower === '' || stopWords.has(lower)) return null;
  return foldPlural(lower);
}
