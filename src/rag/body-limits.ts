import { invalidRequest, payloadTooLarge } from '../errors/index.js';

// Limits on the shape of a /api/chat body that its schema cannot express, checked before anything else
// looks at it (and before any model call): how deep it nests, how big the echoed session state is, and how
// much of it is text rather than images (images have their own limits, MAX_IMAGE_BYTES and MAX_IMAGES).

/** Deepest nesting accepted anywhere in the body; the protocol's own shapes need 6 levels. */
export const MAX_BODY_DEPTH = 32;
/** Largest `session_state` / `sessionState` (as JSON): it is echoed in every response. */
export const MAX_SESSION_STATE_BYTES = 65_536;

/** Nesting depth of a JSON value, without recursion (a 100,000-deep array must not overflow the stack). */
export function depthOf(value: unknown, stopAt = Number.POSITIVE_INFINITY): number {
  let deepest = 0;
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item.value !== 'object' || item.value == null) continue;
    const depth = item.depth + 1;
    if (depth > deepest) deepest = depth;
    if (deepest > stopAt) return deepest;
    for (const child of Object.values(item.value)) stack.push({ value: child, depth });
  }
  return deepest;
}

/** Refuses (400) a body nested deeper than MAX_BODY_DEPTH, naming the top-level field that is. */
export function checkBodyDepth(body: unknown): void {
  if (typeof body !== 'object' || body == null) return;
  for (const [key, value] of Object.entries(body)) {
    if (depthOf(value, MAX_BODY_DEPTH) >= MAX_BODY_DEPTH) throw invalidRequest(`${key}: nested deeper than ${MAX_BODY_DEPTH} levels.`);
  }
}

/** Refuses (400) a session state larger than MAX_SESSION_STATE_BYTES as JSON. */
export function checkSessionState(key: string, value: unknown): void {
  const json = JSON.stringify(value) ?? '';
  if (Buffer.byteLength(json) > MAX_SESSION_STATE_BYTES) {
    throw invalidRequest(`${key}: larger than ${MAX_SESSION_STATE_BYTES} bytes as JSON; keep session state small (an id), it is echoed in every response.`);
  }
}

/**
 * Refuses (413) a body whose text, leaving out the given image data URIs, is larger than `maxTextBytes`
 * (MAX_BODY_BYTES): the read limit allows room for images, which text must not take.
 */
export function checkTextSize(body: unknown, images: ReadonlySet<string>, maxTextBytes: number): void {
  const text = JSON.stringify(body, (_key, value: unknown) => (typeof value === 'string' && images.has(value) ? '' : value)) ?? '';
  if (Buffer.byteLength(text) > maxTextBytes) {
    throw payloadTooLarge(`The request's text (without images) is larger than ${maxTextBytes} bytes (MAX_BODY_BYTES).`);
  }
}
