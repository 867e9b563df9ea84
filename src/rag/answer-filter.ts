// Post-processing of an answer as it streams, so users get the model's text intact except for two things:
// a bracket that looks like a source reference (`[name.ext]` or `[name.ext#page=N]`, possibly several
// separated by , or ;) and names no retrieved source is removed (combined ones are split), and — only when
// follow-up questions were requested — the `<<question>>` groups that end the answer are split off.
// Everything else is left alone: `items[0]`, `[sic]`, footnotes `[1]`, markdown links `[text](url)`,
// `std::cout << x;`, and anything inside inline code or fenced code blocks.
//
// One scanner serves the streamed and the complete answer: it emits text as soon as nothing later can change
// it and holds back only what might still become a citation, a fence or trailing follow-ups, so the result is
// the same however the text is split into deltas.

/** Longest `[...]` considered a citation; an unclosed `[` is held back at most this long. */
const MAX_CITATION_CHARS = 300;
/** Longest run of trailing follow-up groups held back before it is treated as text. */
const MAX_FOLLOWUP_CHARS = 2000;
/** Longest run of whitespace held back (trailing whitespace is trimmed when the answer ends). */
const MAX_HELD_WHITESPACE = 4096;

const SOURCE_REFERENCE = /^[^\s[\]<>`|]([^[\]<>`\n|]{0,250}[^\s[\]<>`|])?\.[A-Za-z][A-Za-z0-9]{0,7}(#page=\d{1,6})?$/;

/** True for text that reads as a file name with an extension, optionally `#page=N`: what a citation names. */
export function looksLikeSourceReference(text: string): boolean {
  return SOURCE_REFERENCE.test(text);
}

const FOLLOWUPS_COMPLETE = /^(?:<<[^<>\n]{1,300}>>\s*)+$/;
const FOLLOWUPS_PARTIAL = /^(?:<<[^<>\n]{1,300}>>\s*)*(?:<<[^<>\n]{0,300}>?|<)?$/;
const FOLLOWUP = /<<([^<>\n]+)>>/g;

interface FilterOptions {
  /** Split trailing `<<question>>` groups off the answer (only when follow-ups were asked for). */
  followups: boolean;
}

interface Step {
  /** Text to emit. */
  out: string;
  /** Characters of the pending buffer consumed. */
  consumed: number;
}

const isWhitespace = (char: string | undefined) => char != null && /\s/.test(char);
const isWordChar = (char: string | undefined) => char != null && /[\p{L}\p{N}_]/u.test(char);

export class AnswerFilter {
  private pending = '';
  private started = false;
  private lineStart = true;
  private previous = '';
  private fence: { char: string; length: number } | undefined;
  private inlineTicks = 0;
  private followupText: string | undefined;

  constructor(
    private readonly allowedCitations: ReadonlySet<string>,
    private readonly options: FilterOptions = { followups: true },
  ) {}

  /** Feeds a delta; returns the text that is safe to emit now (possibly empty). */
  push(delta: string): string {
    if (this.followupText != null) return '';
    this.pending += delta;
    return this.scan(false);
  }

  /** Ends the answer: what is left to emit, and the follow-up questions. */
  finish(): { text: string; followupQuestions: string[] } {
    const text = this.followupText == null ? this.scan(true) : '';
    const questions = [...(this.followupText ?? '').matchAll(FOLLOWUP)].map((match) => match[1]!.trim());
    return { text, followupQuestions: [...new Set(questions.filter((question) => question !== ''))] };
  }

  private scan(final: boolean): string {
    let out = '';
    let at = 0;
    const text = this.pending;
    while (at < text.length) {
      const step = this.step(text, at, final);
      if (step == null) break;
      if (step.out !== '') {
        out += step.out;
        this.started = true;
        this.previous = step.out[step.out.length - 1]!;
      }
      at += step.consumed;
      if (this.followupText != null) break;
    }
    this.pending = this.followupText != null ? '' : text.slice(at);
    return out;
  }

  /** One decision at `at`; undefined when the rest must wait for more text. */
  private step(text: string, at: number, final: boolean): Step | undefined {
    const char = text[at]!;
    if (isWhitespace(char)) return this.whitespace(text, at, final);
    if (this.fence != null) return this.insideFence(text, at, final);
    if (this.inlineTicks > 0) return this.insideInlineCode(text, at, final);
    if (char === '`' || (char === '~' && this.lineStart)) return this.backticks(text, at, final);
    this.lineStart = false;
    if (char === '[') return this.bracket(text, at, at, final);
    if (char === '<' && this.options.followups) return this.followups(text, at, at, final);
    return { out: char, consumed: 1 };
  }

  /** A whitespace run: held when trailing; it may belong to a removed citation or to the follow-ups. */
  private whitespace(text: string, at: number, final: boolean): Step | undefined {
    let end = at;
    while (end < text.length && isWhitespace(text[end])) end++;
    const run = text.slice(at, end);
    if (end === text.length) {
      if (final) return { out: '', consumed: run.length };
      return run.length > MAX_HELD_WHITESPACE ? this.emitWhitespace(run) : undefined;
    }
    // Leading whitespace is dropped, but still ends a line (a fence may follow).
    if (!this.started) return { ...this.emitWhitespace(run), out: '' };
    const code = this.fence != null || this.inlineTicks > 0;
    if (!code && text[end] === '[' && run.endsWith(' ')) {
      // Only the space right before a bracket goes with it when the citation is removed.
      const step = this.bracket(text, end - 1, end, final);
      if (step == null) return undefined;
      this.lineStart = false;
      return { out: run.slice(0, -1) + step.out, consumed: run.length - 1 + step.consumed };
    }
    // Trailing follow-ups count after an unclosed backtick too (it is a literal backtick then), not in a fence.
    if (this.fence == null && text[end] === '<' && this.options.followups) {
      const step = this.followups(text, at, end, final);
      if (step == null || step.consumed > 0) return step;
    }
    return this.emitWhitespace(run);
  }

  private emitWhitespace(run: string): Step {
    const newline = run.lastIndexOf('\n');
    if (newline >= 0) {
      // Up to three spaces of indentation still let a line open or close a fence.
      this.lineStart = run.length - newline - 1 <= 3;
      if (this.inlineTicks > 0) this.inlineTicks = 0;
    } else if (this.lineStart && run.length > 3) {
      this.lineStart = false;
    }
    return { out: run, consumed: run.length };
  }

  /** Inside a fenced code block everything is text; a line-start run of the fence's character closes it. */
  private insideFence(text: string, at: number, final: boolean): Step | undefined {
    const fence = this.fence!;
    if (this.lineStart && text[at] === fence.char) {
      const run = runOf(text, at, fence.char);
      if (at + run === text.length && !final) return undefined;
      this.lineStart = false;
      if (run >= fence.length) this.fence = undefined;
      return { out: text.slice(at, at + run), consumed: run };
    }
    this.lineStart = false;
    let end = at;
    while (end < text.length && !isWhitespace(text[end])) end++;
    return { out: text.slice(at, end), consumed: end - at };
  }

  /** Inline code ends at a backtick run of the opening length (or the end of the line). */
  private insideInlineCode(text: string, at: number, final: boolean): Step | undefined {
    this.lineStart = false;
    if (text[at] === '`') {
      const run = runOf(text, at, '`');
      if (at + run === text.length && !final) return undefined;
      if (run === this.inlineTicks) this.inlineTicks = 0;
      return { out: text.slice(at, at + run), consumed: run };
    }
    if (text[at] === '<' && this.options.followups) return this.followups(text, at, at, final);
    let end = at + 1;
    while (end < text.length && !/[`<]/.test(text[end]!) && !isWhitespace(text[end])) end++;
    return { out: text.slice(at, end), consumed: end - at };
  }

  /** Backticks (or tildes at a line start) open a fence (three or more at a line start) or inline code. */
  private backticks(text: string, at: number, final: boolean): Step | undefined {
    const char = text[at]!;
    const run = runOf(text, at, char);
    if (at + run === text.length && !final) return undefined;
    const atLineStart = this.lineStart;
    this.lineStart = false;
    if (atLineStart && run >= 3) this.fence = { char, length: run };
    else if (char === '`') this.inlineTicks = run;
    return { out: text.slice(at, at + run), consumed: run };
  }

  /** `[...]` at `bracket`, with `from` < `bracket` when a space before it goes with a removed citation. */
  private bracket(text: string, from: number, bracket: number, final: boolean): Step | undefined {
    const match = /^\[([^[\]\n]{1,300})\]/.exec(text.slice(bracket, bracket + MAX_CITATION_CHARS + 2));
    if (match == null) {
      const rest = text.slice(bracket + 1);
      const mayClose = !final && rest.length <= MAX_CITATION_CHARS && !/[[\]\n]/.test(rest);
      if (mayClose) return undefined;
      return { out: text.slice(from, bracket + 1), consumed: bracket + 1 - from };
    }
    const after = bracket + match[0].length;
    if (after === text.length && !final) return undefined;
    const next = text[after];
    const whole = text.slice(from, after);
    // `[text](url)` is a link; `[x]` glued to a word (`items[file.ts]`) is code, not a citation.
    const before = from < bracket ? ' ' : bracket > 0 ? text[bracket - 1] : this.previous;
    const replacement = next === '(' ? undefined : citationReplacement(match[1]!, this.allowedCitations, isWordChar(before));
    if (replacement == null) return { out: whole, consumed: whole.length };
    const space = from < bracket ? ' ' : '';
    if (replacement !== '') return { out: space + replacement, consumed: whole.length };
    // Removing `[x]` from "is $500 [x]." must not leave "is $500 ."
    const keepSpace = next != null && !/[\s.,;:!?)]/.test(next);
    return { out: keepSpace ? space : '', consumed: whole.length };
  }

  /** Trailing `<<question>>` groups (with the whitespace before them, from `from`) end the answer. */
  private followups(text: string, from: number, start: number, final: boolean): Step | undefined {
    const rest = text.slice(start);
    if (rest.length <= MAX_FOLLOWUP_CHARS) {
      if (final && FOLLOWUPS_COMPLETE.test(rest)) {
        this.followupText = rest;
        return { out: '', consumed: text.length - from };
      }
      if (!final && FOLLOWUPS_PARTIAL.test(rest)) return undefined;
    }
    // Not (or no longer) the end of the answer: plain text, `std::cout << x;` included.
    if (from < start) return { out: '', consumed: 0 };
    return { out: '<', consumed: 1 };
  }
}

function runOf(text: string, at: number, char: string): number {
  let end = at;
  while (end < text.length && text[end] === char) end++;
  return end - at;
}

/**
 * What replaces `[inner]`: undefined when it is not a citation (left alone), the kept citations otherwise
 * ('' when none of its names was retrieved).
 */
function citationReplacement(inner: string, allowed: ReadonlySet<string>, afterWord: boolean): string | undefined {
  const trimmed = inner.trim();
  if (allowed.has(trimmed)) return `[${trimmed}]`;
  if (afterWord) return undefined;
  const names = trimmed.split(/[,;]/).map((name) => name.trim());
  if (!names.every(looksLikeSourceReference)) return undefined;
  return names
    .filter((name) => allowed.has(name))
    .map((name) => `[${name}]`)
    .join('');
}

/** The same processing for a complete (non-streamed) answer. */
export function splitAnswer(content: string, allowedCitations: ReadonlySet<string>, options: FilterOptions = { followups: true }) {
  const filter = new AnswerFilter(allowedCitations, options);
  const head = filter.push(content);
  const { text, followupQuestions } = filter.finish();
  return { content: head + text, followupQuestions };
}

/** Keeps citations naming a retrieved source in a complete text (no follow-up splitting); trims it. */
export function keepValidCitations(text: string, allowed: ReadonlySet<string>): string {
  return splitAnswer(text, allowed, { followups: false }).content;
}
