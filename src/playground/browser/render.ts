// Safe rendering of model output. Nothing here ever parses HTML: answers are turned into DOM nodes whose
// text is set with text nodes, so a reply containing <script> or <img onerror> shows as those characters.
// (The page's CSP also enables Trusted Types with no policy, which makes every HTML-string sink throw.)
// The Markdown subset is what chat answers actually use: paragraphs, line breaks, bullet and numbered lists,
// fenced code, `code`, **bold**, and [source.pdf#page=N] citations, which become links to the cited page.

type Child = Node | string | null | undefined | false;

/** document.createElement with attributes and children (strings become text nodes). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) if (child != null && child !== false) node.append(child);
  return node;
}

export interface RenderOptions {
  /** The URL a citation opens, or undefined to leave it as text. */
  citationHref?: (citation: string) => string | undefined;
}

const INLINE = /(`[^`\n]+`)|(\*\*[^*\n]+\*\*)|(\[[^\]\n]+\])/g;

function inline(text: string, options: RenderOptions): Node[] {
  const nodes: Node[] = [];
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    const index = match.index ?? 0;
    if (index > last) nodes.push(document.createTextNode(text.slice(last, index)));
    const [token] = match;
    if (match[1] != null) nodes.push(el('code', {}, token.slice(1, -1)));
    else if (match[2] != null) nodes.push(el('strong', {}, token.slice(2, -2)));
    else {
      const citation = token.slice(1, -1);
      const href = options.citationHref?.(citation);
      nodes.push(href == null ? document.createTextNode(token) : citationLink(citation, href));
    }
    last = index + token.length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

export function citationLink(citation: string, href: string): HTMLAnchorElement {
  return el('a', { class: 'citation', href, target: '_blank', rel: 'noopener noreferrer' }, citation);
}

function withBreaks(lines: string[], options: RenderOptions): Node[] {
  return lines.flatMap((line, i) => (i === 0 ? inline(line, options) : [el('br'), ...inline(line, options)]));
}

/** Replaces `target`'s content with `markdown` rendered as described above. */
export function renderMarkdown(target: HTMLElement, markdown: string, options: RenderOptions = {}): void {
  const blocks: Node[] = [];
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    if (line.trim() === '') {
      i++;
    } else if (line.trimStart().startsWith('```')) {
      const code: string[] = [];
      i++;
      while (i < lines.length && !(lines[i] ?? '').trimStart().startsWith('```')) code.push(lines[i++] ?? '');
      i++;
      blocks.push(el('pre', {}, el('code', {}, code.join('\n'))));
    } else if (/^\s*([-*+]|\d+[.)])\s+/.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const list = el(ordered ? 'ol' : 'ul');
      while (i < lines.length && /^\s*([-*+]|\d+[.)])\s+/.test(lines[i] ?? '')) {
        list.append(el('li', {}, ...inline((lines[i] ?? '').replace(/^\s*([-*+]|\d+[.)])\s+/, ''), options)));
        i++;
      }
      blocks.push(list);
    } else {
      const paragraph: string[] = [];
      while (i < lines.length && (lines[i] ?? '').trim() !== '' && !/^\s*([-*+]|\d+[.)])\s+|^\s*```/.test(lines[i] ?? '')) {
        paragraph.push((lines[i] ?? '').replace(/^#{1,6}\s+/, ''));
        i++;
      }
      blocks.push(el('p', {}, ...withBreaks(paragraph, options)));
    }
  }
  target.replaceChildren(...blocks);
}

/** Shows an error in a panel's alert box (or hides it with undefined). */
export function showError(box: HTMLElement, error: unknown): void {
  if (error == null) {
    box.hidden = true;
    box.textContent = '';
    return;
  }
  box.textContent = error instanceof Error ? error.toString().replace(/^Error: /, '') : String(error);
  box.hidden = false;
}

/** A value as readable text: strings as they are, everything else as indented JSON. */
export function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
