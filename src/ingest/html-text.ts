// HTML to plain text for indexing, with htmlparser2's streaming tokenizer: one pass over the input whatever
// it holds (the regexes this replaces rescanned to the end of the file at every unclosed tag: 300 KB of
// `<p<p<p…` froze the app for 66 s). Drops scripts, styles, templates and the head, turns block elements
// into line breaks and decodes entities. Indexing needs text, not layout.

const skippedElements = new Set(['script', 'style', 'noscript', 'template', 'svg', 'head', 'object', 'iframe']);
const blockElements = new Set(
  'address article aside blockquote br caption dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody td th thead tr ul'.split(' '),
);

/**
 * The text of an HTML document, whitespace collapsed, block elements on their own lines. `overLimit` is
 * thrown as soon as the text passes `maxChars` (counted before whitespace is collapsed).
 */
export async function htmlToText(html: string, maxChars = Number.MAX_SAFE_INTEGER, overLimit: () => Error = () => new RangeError('too much text')): Promise<string> {
  // ESM-only package, loaded on first HTML document.
  const { Parser } = await import('htmlparser2');
  const parts: string[] = [];
  let skipping = 0;
  let chars = 0;
  const parser = new Parser(
    {
      onopentagname(name) {
        if (skippedElements.has(name)) skipping += 1;
        else if (skipping === 0 && blockElements.has(name)) parts.push('\n');
      },
      onclosetag(name, implied) {
        if (skippedElements.has(name)) skipping = Math.max(0, skipping - 1);
        else if (skipping === 0 && blockElements.has(name) && !implied) parts.push('\n');
      },
      ontext(text) {
        if (skipping !== 0) return;
        chars += text.length;
        if (chars > maxChars) throw overLimit();
        parts.push(text);
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.end(html);
  return parts
    .join('')
    .replace(/[ \t\u00a0]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
