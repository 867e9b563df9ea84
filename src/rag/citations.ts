// Citations are `[sourcepage]` markers in the answer. Only sources we actually retrieved may be cited: an
// invented or mistyped one is removed rather than shown as a dead link. Markdown links `[text](url)` are
// left alone.

const CITATION = /( ?)\[([^[\]\n]{1,300})\](?!\()/g;

/** Keeps citations naming a retrieved source; splits combined ones (`[a.pdf, b.pdf]` → `[a.pdf][b.pdf]`). */
export function keepValidCitations(text: string, allowed: ReadonlySet<string>): string {
  // Removing `[x]` from `[[x]y]` exposes `[y]`: repeat until nothing changes.
  for (let pass = 0; pass < 8; pass++) {
    const next = removeInvalidOnce(text, allowed);
    if (next === text) return text;
    text = next;
  }
  return text;
}

function removeInvalidOnce(text: string, allowed: ReadonlySet<string>): string {
  return text.replace(CITATION, (whole: string, space: string, inner: string, offset: number, all: string) => {
    const names = allowed.has(inner.trim()) ? [inner.trim()] : inner.split(/[,;]/).map((name) => name.trim());
    const kept = names.filter((name) => allowed.has(name)).map((name) => `[${name}]`).join('');
    if (kept !== '') return space + kept;
    // Removing `[x]` from "is $500 [x]." must not leave "is $500 ."
    const next = all[offset + whole.length];
    return next == null || /[\s.,;:!?)]/.test(next) ? '' : space;
  });
}

/** Citations in the order they appear, each once. */
export function citationsIn(text: string): string[] {
  return [...new Set([...text.matchAll(CITATION)].map((match) => match[2]!.trim()))];
}
