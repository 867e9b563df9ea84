import { keepValidCitations } from './citations.js';

const FOLLOWUP = /<<([^<>]+)>>/g;
/** How long an unclosed `[` is held back before it is treated as plain text. */
const MAX_HELD_CITATION = 300;

/**
 * Post-processes an answer as it streams: invalid citations are removed and follow-up questions (`<<...>>`,
 * which end the answer) are split off and never emitted. Text that might still turn into a citation or a
 * `<<` is held back until the next delta decides it, so a marker split across deltas is handled too.
 */
export class AnswerFilter {
  private pending = '';
  private followupText: string | undefined;

  constructor(private readonly allowedCitations: ReadonlySet<string>) {}

  /** Feeds a delta; returns the text that is safe to emit now (possibly empty). */
  push(delta: string): string {
    if (this.followupText != null) {
      this.followupText += delta;
      return '';
    }
    this.pending += delta;
    const start = this.pending.indexOf('<<');
    if (start >= 0) {
      this.followupText = this.pending.slice(start);
      const before = this.pending.slice(0, start);
      this.pending = '';
      return keepValidCitations(before.trimEnd(), this.allowedCitations);
    }
    const hold = this.holdFrom(this.pending);
    const ready = this.pending.slice(0, hold);
    this.pending = this.pending.slice(hold);
    return keepValidCitations(ready, this.allowedCitations);
  }

  /** Ends the answer: what is left to emit, and the follow-up questions. */
  finish(): { text: string; followupQuestions: string[] } {
    const text = keepValidCitations(this.pending.trimEnd(), this.allowedCitations);
    this.pending = '';
    const questions = [...(this.followupText ?? '').matchAll(FOLLOWUP)].map((match) => match[1]!.trim());
    return { text, followupQuestions: [...new Set(questions.filter((question) => question !== ''))] };
  }

  /** Index from which the pending text must wait for more input. */
  private holdFrom(text: string): number {
    const unclosed: number[] = [];
    const openerOf = new Map<number, number>();
    for (let index = 0; index < text.length; index++) {
      if (text[index] === '[') unclosed.push(index);
      else if (text[index] === ']' && unclosed.length > 0) openerOf.set(index, unclosed.pop()!);
    }
    let hold = text.length;
    // A trailing `<` may be the first half of `<<`.
    if (text.endsWith('<')) hold = text.length - 1;
    // An unclosed `[` may be a citation still arriving.
    const firstOpen = unclosed[0];
    if (firstOpen != null && text.length - firstOpen <= MAX_HELD_CITATION) hold = Math.min(hold, firstOpen);
    // Trailing spaces and closed citations wait too: whether a removed citation takes its leading space
    // with it, and whether `[x]` is a link `[x](url)`, depends on what comes next.
    for (;;) {
      while (hold > 0 && text[hold - 1] === ' ') hold--;
      const open = openerOf.get(hold - 1);
      if (open == null || text.length - open > MAX_HELD_CITATION) return hold;
      hold = open;
    }
  }
}

/** The same processing for a complete (non-streamed) answer. */
export function splitAnswer(content: string, allowedCitations: ReadonlySet<string>) {
  const filter = new AnswerFilter(allowedCitations);
  const head = filter.push(content);
  const { text, followupQuestions } = filter.finish();
  return { content: (head + text).trim(), followupQuestions };
}
