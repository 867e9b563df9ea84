import { z } from 'zod';
import { invalidRequest, payloadTooLarge } from '../errors/index.js';
import { validate } from '../http/body.js';
import { checkBodyDepth, checkSessionState, checkTextSize } from './body-limits.js';
import { checkImageBytes, parseImageDataUri } from './images.js';
import type { FormLimits, FormPart } from '../http/multipart.js';
import { MAX_MESSAGE_CHARS, MAX_PROMPT_CHARS } from '../limits.js';

// Request shapes of the Microsoft AI Chat Protocol (JSON and multipart), plus the older
// `{history: [{user, bot}], overrides}` shape of the RAG demo, all turned into one `RagRequest`.

export const MAX_MESSAGES = 1000;
export const MAX_TOP = 50;

const textPart = z.object({ type: z.literal('text'), text: z.string().max(MAX_MESSAGE_CHARS) });
const imagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({ url: z.string(), detail: z.enum(['auto', 'low', 'high']).nullish() }),
});
const contentPart = z.discriminatedUnion('type', [textPart, imagePart]);

export const chatMessage = z.object({
  role: z.enum(['user', 'assistant', 'system']),
  content: z.union([z.string().max(MAX_MESSAGE_CHARS), z.array(contentPart).min(1).max(20)]),
});

/** Overrides of API.md; unknown keys are ignored, null means "use the default". */
export const overridesSchema = z
  .object({
    retrieval_mode: z.enum(['hybrid', 'text', 'vectors', 'none']).nullish(),
    top: z.number().int().min(1).max(MAX_TOP).nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    minimum_search_score: z.number().min(0).nullish(),
    minimum_reranker_score: z.number().min(0).max(4).nullish(),
    semantic_ranker: z.boolean().nullish(),
    semantic_captions: z.boolean().nullish(),
    prompt_template: z.string().max(MAX_PROMPT_CHARS).nullish(),
    include_category: z.string().max(200).nullish(),
    exclude_category: z.string().max(200).nullish(),
    suggest_followup_questions: z.boolean().nullish(),
    use_oid_security_filter: z.boolean().nullish(),
    use_groups_security_filter: z.boolean().nullish(),
    seed: z.number().int().nullish(),
    max_tokens: z.number().int().min(1).max(128_000).nullish(),
  })
  .loose();

export type Overrides = z.infer<typeof overridesSchema>;

export const protocolRequest = z.object({
  messages: z.array(chatMessage).min(1, 'must hold at least one message').max(MAX_MESSAGES),
  context: z
    .object({ overrides: overridesSchema.nullish(), file: z.string().nullish() })
    .loose()
    .nullish(),
  session_state: z.unknown().optional(),
  sessionState: z.unknown().optional(),
});

export const legacyRequest = z.object({
  history: z
    .array(z.object({ user: z.string().max(MAX_MESSAGE_CHARS), bot: z.string().max(MAX_MESSAGE_CHARS).nullish() }))
    .min(1, 'must hold at least one turn')
    .max(MAX_MESSAGES),
  overrides: overridesSchema.nullish(),
});

/** Both accepted JSON shapes, for the OpenAPI document. */
export const chatRequestBody = z.union([protocolRequest, legacyRequest]);

export interface ConversationMessage {
  role: 'user' | 'assistant' | 'system';
  text: string;
  /** Data URIs of checked images; only ever on the latest user turn. */
  images: string[];
}

export interface RagRequest {
  /** System messages from the client are dropped: the approach owns the system prompt. */
  history: ConversationMessage[];
  /** The latest user turn. */
  question: ConversationMessage;
  overrides: Overrides;
  /** Echoed back under the key the client used. */
  sessionState?: { key: 'session_state' | 'sessionState'; value: unknown };
}

export interface ImageLimits {
  maxImageBytes: number;
  maxImages: number;
  /** MAX_BODY_BYTES: the body's text without its images; unchecked when absent. */
  maxTextBytes?: number;
}

/** Every image data string a protocol body carries, so text limits can leave them out. */
function imageStrings(body: z.infer<typeof protocolRequest>): Set<string> {
  const images = new Set<string>();
  if (body.context?.file != null) images.add(body.context.file);
  for (const message of body.messages) {
    if (typeof message.content === 'string') continue;
    for (const part of message.content) if (part.type === 'image_url') images.add(part.image_url.url);
  }
  return images;
}

function textOf(content: z.infer<typeof chatMessage>['content']): string {
  if (typeof content === 'string') return content;
  return content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('\n');
}

function imagesOf(content: z.infer<typeof chatMessage>['content'], index: number, limits: ImageLimits): string[] {
  if (typeof content === 'string') return [];
  return content.flatMap((part, partIndex) =>
    part.type === 'image_url' ? [parseImageDataUri(part.image_url.url, limits.maxImageBytes, `messages.${index}.content.${partIndex}.image_url.url`).dataUri] : [],
  );
}

function fromProtocol(body: z.infer<typeof protocolRequest>, files: Map<number, Uint8Array[]>, limits: ImageLimits): RagRequest {
  const lastIndex = body.messages.length - 1;
  const last = body.messages[lastIndex]!;
  if (last.role !== 'user') throw invalidRequest(`messages.${lastIndex}.role: the last message must be from the user.`);
  const images = [
    ...imagesOf(last.content, lastIndex, limits),
    ...(files.get(lastIndex) ?? []).map((bytes, index) => checkImageBytes(bytes, limits.maxImageBytes, `messages[${lastIndex}].files[${index}]`).dataUri),
    ...(body.context?.file == null ? [] : [parseImageDataUri(body.context.file, limits.maxImageBytes, 'context.file').dataUri]),
  ];
  const sessionKey = body.sessionState !== undefined ? 'sessionState' : body.session_state !== undefined ? 'session_state' : undefined;
  return {
    history: body.messages
      .slice(0, lastIndex)
      .filter((message) => message.role !== 'system')
      .map((message) => ({ role: message.role, text: textOf(message.content), images: [] })),
    question: { role: 'user', text: textOf(last.content), images },
    overrides: body.context?.overrides ?? {},
    ...(sessionKey == null ? {} : { sessionState: { key: sessionKey, value: body[sessionKey] } }),
  };
}

function fromLegacy(body: z.infer<typeof legacyRequest>): RagRequest {
  const turns = body.history;
  const last = turns[turns.length - 1]!;
  return {
    history: turns.slice(0, -1).flatMap((turn) => [
      { role: 'user' as const, text: turn.user, images: [] },
      ...(turn.bot == null ? [] : [{ role: 'assistant' as const, text: turn.bot, images: [] }]),
    ]),
    question: { role: 'user', text: last.user, images: [] },
    overrides: body.overrides ?? {},
  };
}

/**
 * Validates a parsed body (and multipart files, keyed by message index) into a RagRequest. Every problem is
 * a 400/413 here, before any model call.
 */
export function toRagRequest(body: unknown, files: Map<number, Uint8Array[]>, limits: ImageLimits): RagRequest {
  checkBodyDepth(body);
  const isLegacy = typeof body === 'object' && body != null && 'history' in body && !('messages' in body);
  let request: RagRequest;
  if (isLegacy) {
    request = fromLegacy(validate(legacyRequest, body, 'body'));
    if (limits.maxTextBytes != null) checkTextSize(body, new Set(), limits.maxTextBytes);
  } else {
    const protocol = validate(protocolRequest, body, 'body');
    if (limits.maxTextBytes != null) checkTextSize(body, imageStrings(protocol), limits.maxTextBytes);
    request = fromProtocol(protocol, files, limits);
  }
  if (request.sessionState != null) checkSessionState(request.sessionState.key, request.sessionState.value);
  if (request.question.text.trim() === '' && request.question.images.length === 0) {
    throw invalidRequest('The last user message is empty.');
  }
  if (request.question.text.length > MAX_PROMPT_CHARS) {
    throw payloadTooLarge(`The last user message is longer than ${MAX_PROMPT_CHARS} characters.`);
  }
  if (request.question.images.length > limits.maxImages) {
    throw payloadTooLarge(`At most ${limits.maxImages} images may be attached to a message.`);
  }
  return request;
}

const IMAGE_SLOT = /^messages\[(\d+)\]\.files\[(\d+)\]$/;

/** Room for boundaries and part headers on top of the JSON and the images themselves. */
const FORM_OVERHEAD_BYTES = 64 * 1024;
/** Text parts besides `json` a client may add (all ignored); beyond them a form is a 400. */
const EXTRA_FORM_PARTS = 16;

/** What a multipart /api/chat body may hold: one `json` part within MAX_BODY_BYTES, and images within theirs. */
export function chatFormLimits(limits: Required<ImageLimits>): FormLimits {
  const files = limits.maxImages + 1;
  return {
    bodyBytes: limits.maxTextBytes + limits.maxImages * limits.maxImageBytes + FORM_OVERHEAD_BYTES,
    fileBytes: (name) => (name === 'json' ? { bytes: limits.maxTextBytes, setting: 'MAX_BODY_BYTES' } : { bytes: limits.maxImageBytes, setting: 'MAX_IMAGE_BYTES' }),
    fieldBytes: { bytes: limits.maxTextBytes, setting: 'MAX_BODY_BYTES' },
    parts: files + EXTRA_FORM_PARTS,
    // The json part may come as a file too (FormData sends a Blob so).
    files: { max: files, tooMany: () => payloadTooLarge(`At most ${limits.maxImages} images may be attached to a message.`) },
  };
}

/**
 * The AI Chat Protocol's multipart variant: a `json` part (text or file) with the request, and image files named
 * `messages[i].files[j]`. Unknown parts are ignored, as RFC 7578 readers do.
 */
export function chatFormBody(parts: FormPart[]): { body: unknown; files: Map<number, Uint8Array[]> } {
  const jsonParts = parts.filter((part) => part.name === 'json');
  if (jsonParts.length === 0) throw invalidRequest('multipart/form-data requests need a "json" part with the chat request.');
  if (jsonParts.length > 1) throw invalidRequest('The form has two "json" parts; send the chat request once.');
  const json = jsonParts[0]!;
  let body: unknown;
  try {
    body = JSON.parse(json.kind === 'field' ? json.value : json.bytes.toString('utf8'));
  } catch (error: unknown) {
    throw invalidRequest(`The "json" part is not valid JSON (${error instanceof Error ? error.message : 'unparseable'}).`);
  }
  const slots = new Map<number, Map<number, Uint8Array>>();
  for (const part of parts) {
    const match = IMAGE_SLOT.exec(part.name);
    if (match == null) continue;
    // A text part would have been decoded as UTF-8, which breaks image bytes: refuse it rather than drop it.
    if (part.kind === 'field') throw invalidRequest(`${part.name}: send the image as a file part (with a filename), not as a text field.`);
    const message = Number(match[1]);
    const slot = Number(match[2]);
    const images = slots.get(message) ?? new Map<number, Uint8Array>();
    if (images.has(slot)) throw invalidRequest(`${part.name}: the form has two files for this name; number each image once.`);
    images.set(slot, part.bytes);
    slots.set(message, images);
  }
  const files = new Map([...slots].map(([message, images]) => [message, [...images].sort(([a], [b]) => a - b).map(([, bytes]) => bytes)]));
  return { body, files };
}
