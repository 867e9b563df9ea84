// Table Storage limits a string property to 64 KiB (32K UTF-16 code units) and an entity to 1 MiB. Message
// text is therefore split across properties `content`, `content1`, `content2`, ... and joined when read.

/** UTF-16 code units per property: under the 32,768 the service allows, with room to spare. */
export const PROPERTY_CHARS = 30_000;
/** Properties one message row may use: 15 × 30,000 units ≈ 900 KB, under the 1 MiB entity limit. */
export const MAX_CONTENT_PROPERTIES = 15;
/** The most text one message row can hold. */
export const ROW_CONTENT_CHARS = PROPERTY_CHARS * MAX_CONTENT_PROPERTIES;

const propertyName = (index: number, name = 'content') => (index === 0 ? name : `${name}${index}`);

/** Splits text into pieces of at most `size` code units, never between the two halves of a surrogate pair. */
export function splitText(text: string, size: number = PROPERTY_CHARS): string[] {
  const pieces: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + size, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces;
}

/** The properties holding `text`, plus how many there are; text past one row's capacity must be cut by the caller. */
export function contentProperties(text: string): Record<string, string | number> {
  const pieces = splitText(text);
  if (pieces.length > MAX_CONTENT_PROPERTIES) throw new RangeError('content exceeds one row');
  const properties: Record<string, string | number> = { contentParts: pieces.length };
  pieces.forEach((piece, index) => (properties[propertyName(index)] = piece));
  if (pieces.length === 0) properties[propertyName(0)] = '';
  return properties;
}

/** Joins what contentProperties wrote. */
export function joinContent(entity: Record<string, unknown>): string {
  const parts = typeof entity.contentParts === 'number' ? entity.contentParts : 1;
  let text = '';
  for (let index = 0; index < parts; index++) {
    const piece = entity[propertyName(index)];
    if (typeof piece === 'string') text += piece;
  }
  return text;
}

/** Cuts text to what one row can hold, without splitting a surrogate pair. */
export function fitRow(text: string): { text: string; truncated: boolean } {
  if (text.length <= ROW_CONTENT_CHARS) return { text, truncated: false };
  return { text: splitText(text, ROW_CONTENT_CHARS)[0] ?? '', truncated: true };
}

/**
 * Any long text (tool calls as JSON, a chat's client tools) split like message content: `<name>`, `<name>1`, ...
 * plus `<name>Parts`. The OpenAI extension lost whole chats to a truncated ToolCalls column (its issue #194).
 */
export function textProperties(name: string, text: string, maxProperties = MAX_CONTENT_PROPERTIES): Record<string, string | number> {
  const pieces = splitText(text);
  if (pieces.length > maxProperties) throw new RangeError(`${name} exceeds ${maxProperties} properties`);
  const properties: Record<string, string | number> = { [`${name}Parts`]: pieces.length, [propertyName(0, name)]: '' };
  pieces.forEach((piece, index) => (properties[propertyName(index, name)] = piece));
  return properties;
}

/** Joins what textProperties wrote; a single unsplit property (older rows) reads as one part. */
export function joinText(entity: Record<string, unknown>, name: string): string {
  const count = entity[`${name}Parts`];
  const parts = typeof count === 'number' ? count : 1;
  let text = '';
  for (let index = 0; index < parts; index++) {
    const piece = entity[propertyName(index, name)];
    if (typeof piece === 'string') text += piece;
  }
  return text;
}
