import { z } from 'zod';

// The only module that reads process.env. Every setting name of API.md § Settings lives here.

/** Empty strings in local.settings.json or app settings mean "not set". */
const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

/** A whole-number setting with a default and bounds, named in the error when out of range. */
const wholeNumber = (fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value, ctx) => {
      if (value == null || value === '') return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}, got "${value}"` });
        return z.NEVER;
      }
      return parsed;
    });

/** An optional name checked with the naming rules of the service it names, so a bad one fails here, named. */
const serviceName = (pattern: RegExp, rule: string, check: (value: string) => boolean = () => true) =>
  optionalText.superRefine((value, ctx) => {
    if (value != null && !(pattern.test(value) && check(value))) ctx.addIssue({ code: 'custom', message: `${rule}, got "${value}"` });
  });

/** An optional http(s) URL (endpoints and base URLs). */
const httpUrl = optionalText.superRefine((value, ctx) => {
  if (value == null) return;
  let protocol: string | undefined;
  try {
    protocol = new URL(value).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'http:' && protocol !== 'https:') ctx.addIssue({ code: 'custom', message: `must be an http(s) URL, got "${value}"` });
});

const environmentSchema = z.object({
  AZURE_OPENAI_ENDPOINT: httpUrl,
  AZURE_OPENAI_API_KEY: optionalText,
  AZURE_OPENAI_API_VERSION: optionalText,
  AZURE_CLIENT_ID: optionalText,
  OPENAI_API_KEY: optionalText,
  OPENAI_BASE_URL: httpUrl,
  CHAT_MODEL_DEPLOYMENT_NAME: optionalText,
  EMBEDDING_MODEL_DEPLOYMENT_NAME: optionalText,
  CHAT_STORAGE_CONNECTION: optionalText,
  // Azure Table Storage: 3-63 alphanumeric characters, starting with a letter; "tables" is reserved.
  CHAT_TABLE_NAME: serviceName(
    /^[A-Za-z][A-Za-z0-9]{2,62}$/,
    'must be a Table Storage name: 3-63 letters and digits, starting with a letter, not "tables"',
    (value) => value.toLowerCase() !== 'tables',
  ),
  AZURE_SEARCH_ENDPOINT: httpUrl,
  // Azure AI Search: lowercase letters, digits and dashes, starting and ending with a letter or digit, no "--", < 129.
  AZURE_SEARCH_INDEX: serviceName(
    /^[a-z0-9](?:[a-z0-9-]{0,126}[a-z0-9])?$/,
    'must be an Azure AI Search index name: 1-128 lowercase letters, digits and single dashes, starting and ending with a letter or digit',
    (value) => !value.includes('--'),
  ),
  AZURE_SEARCH_API_KEY: optionalText,
  CHAT_HISTORY_TOKENS: wholeNumber(8000),
  CHAT_MAX_TOOL_ROUNDS: wholeNumber(8, 1, 50),
  CHAT_TOOL_TIMEOUT_MS: wholeNumber(30_000, 1, 600_000),
  CHAT_TODO_TABLE_NAME: optionalText,
  MAX_OUTPUT_TOKENS: wholeNumber(1024),
  MODEL_CONTEXT_TOKENS: wholeNumber(128_000),
  MODEL_TIMEOUT_MS: wholeNumber(60_000),
  // Azure's front end ends a request that has not answered in 230 s; the app answers 504 before it does.
  REQUEST_DEADLINE_MS: wholeNumber(200_000, 1, 220_000),
  MODEL_MAX_RETRIES: wholeNumber(2, 0, 10),
  MODEL_REASONING: z
    .string()
    .trim()
    .toLowerCase()
    .optional()
    .transform((value) => (value == null || value === '' ? 'auto' : value))
    .pipe(z.enum(['auto', 'true', 'false'])),
  MODEL_REASONING_EFFORT: z
    .string()
    .trim()
    .toLowerCase()
    .optional()
    .transform((value) => (value === '' ? undefined : value))
    .pipe(z.enum(['minimal', 'low', 'medium', 'high']).optional()),
  MAX_BODY_BYTES: wholeNumber(1_048_576),
  MAX_IMAGE_BYTES: wholeNumber(4 * 1024 * 1024),
  MAX_IMAGES: wholeNumber(4, 1, 20),
  TRUST_CLIENT_PRINCIPAL: z.enum(['true', 'false', '']).optional().transform((value) => value === 'true'),
  REQUIRE_ACCESS_CONTROL: z.enum(['true', 'false', '']).optional().transform((value) => value === 'true'),
  RAG_SYSTEM_PROMPT: z.string().max(32_000).optional(),
  MAX_DOCUMENT_BYTES: wholeNumber(26_214_400),
  MAX_DOCUMENT_PAGES: wholeNumber(2_000),
  MAX_DOCUMENT_TEXT_CHARS: wholeNumber(5_000_000),
  // Blob Storage container: 3-63 lowercase letters, digits and single dashes, starting and ending with a letter or digit.
  CONTENT_CONTAINER: serviceName(
    /^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$/,
    'must be a Blob Storage container name: 3-63 lowercase letters, digits and single dashes, starting and ending with a letter or digit',
    (value) => !value.includes('--'),
  ),
  INGEST_SAMPLE_DATA: z
    .string()
    .trim()
    .optional()
    .transform((value, ctx) => {
      if (value == null || value === '') return true;
      if (/^(true|1|yes)$/i.test(value)) return true;
      if (/^(false|0|no)$/i.test(value)) return false;
      ctx.addIssue({ code: 'custom', message: `must be true or false, got "${value}"` });
      return z.NEVER;
    }),
  PORT: wholeNumber(7071, 0, 65535),
  /** Interface the local host listens on; 127.0.0.1 so a dev machine does not serve its network. */
  HOST: optionalText,
});

export const DEFAULT_AZURE_OPENAI_API_VERSION = '2024-10-21';
export const DEFAULT_AZURE_CHAT_DEPLOYMENT = 'chat';
export const DEFAULT_OPENAI_CHAT_MODEL = 'gpt-4o-mini';

export type ModelProvider =
  | { kind: 'azure'; endpoint: string; apiKey?: string; apiVersion: string; clientId?: string }
  | { kind: 'openai'; baseURL?: string; apiKey?: string }
  | { kind: 'none' };

export interface StorageSettings {
  /** Name of the setting the connection came from, for messages. */
  settingName: string;
  connectionString?: string;
  accountName?: string;
  tableServiceUri?: string;
  blobServiceUri?: string;
  /** `managedidentity` asks for a managed identity, optionally a user-assigned one. */
  credential?: string;
  clientId?: string;
}

export interface AppConfig {
  model: ModelProvider;
  chatModel?: string;
  embeddingModel?: string;
  modelTimeoutMs: number;
  /** Longest a request may take before its response starts (a stream that has started is not cut). */
  requestDeadlineMs: number;
  modelMaxRetries: number;
  /** Reasoning-model parameters: `auto` detects them from the model name and the provider's answer. */
  modelReasoning: 'auto' | 'true' | 'false';
  modelReasoningEffort?: 'minimal' | 'low' | 'medium' | 'high';
  chatStorage: StorageSettings;
  storage: StorageSettings;
  chatTableName: string;
  /** Table of the todo sample skills (partition = chat id). */
  todoTableName: string;
  /** Most model calls in one chat turn with tools. */
  maxToolRounds: number;
  /** Longest one skill call may run. */
  toolTimeoutMs: number;
  search: { endpoint?: string; index: string; apiKey?: string; clientId?: string };
  historyTokens: number;
  maxOutputTokens: number;
  modelContextTokens: number;
  maxBodyBytes: number;
  maxImageBytes: number;
  maxImages: number;
  /** Trust App Service authentication headers for the caller's identity (set only behind Easy Auth). */
  trustClientPrincipal: boolean;
  /** Retrieval always filters by the caller's (trusted) oid and groups, whatever the request asks. */
  requireAccessControl: boolean;
  /** The deployment's own answer prompt for chat with your data; a generic one when unset. */
  ragSystemPrompt: string | undefined;
  /** Largest document accepted by POST /api/documents and the ingest CLI. */
  maxDocumentBytes: number;
  /** Most pages one document may have (a text file's pages are separated by form feeds). */
  maxDocumentPages: number;
  /** Most characters of text one document may hold once extracted. */
  maxDocumentTextChars: number;
  /** Blob container holding the source files served by GET /api/content. */
  contentContainer: string;
  /** Whether the local host ingests data/ on first start when the local index is empty. */
  ingestSampleData: boolean;
  port: number;
  /** Interface the local host listens on (HOST, default 127.0.0.1). */
  host: string;
}

/** A setting is missing or invalid; answered as 503 configuration_error on every route (http/respond.ts). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function readStorage(env: NodeJS.ProcessEnv, settingName: string): StorageSettings {
  const value = (key: string) => {
    const raw = env[key]?.trim();
    return raw === '' ? undefined : raw;
  };
  const connectionString = value(settingName);
  const accountName = value(`${settingName}__accountName`);
  const tableServiceUri = value(`${settingName}__tableServiceUri`);
  const blobServiceUri = value(`${settingName}__blobServiceUri`);
  // Nothing configured at all means local development: Azurite, as Core Tools assumes.
  const identityBased = accountName != null || tableServiceUri != null || blobServiceUri != null;
  const useDevelopment = connectionString === 'UseDevelopmentStorage=true' || (connectionString == null && !identityBased);
  return {
    settingName,
    connectionString: useDevelopment ? developmentStorage : connectionString,
    accountName,
    tableServiceUri,
    blobServiceUri,
    credential: value(`${settingName}__credential`),
    clientId: value(`${settingName}__clientId`),
  };
}

/** Azurite's well-known development account, spelled out so the SDKs need no special casing. */
export const developmentStorage =
  'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;' +
  'AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;' +
  'BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;';

/** Parses the environment; throws ConfigError naming every bad setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid settings: ${problems.join('; ')}`);
  }
  const settings = parsed.data;
  const chatStorageSetting = settings.CHAT_STORAGE_CONNECTION ?? 'AzureWebJobsStorage';
  const model: ModelProvider = settings.AZURE_OPENAI_ENDPOINT
    ? {
        kind: 'azure',
        endpoint: settings.AZURE_OPENAI_ENDPOINT,
        apiKey: settings.AZURE_OPENAI_API_KEY,
        apiVersion: settings.AZURE_OPENAI_API_VERSION ?? DEFAULT_AZURE_OPENAI_API_VERSION,
        clientId: settings.AZURE_CLIENT_ID,
      }
    : settings.OPENAI_BASE_URL || settings.OPENAI_API_KEY
      ? { kind: 'openai', baseURL: settings.OPENAI_BASE_URL, apiKey: settings.OPENAI_API_KEY }
      : { kind: 'none' };
  return {
    model,
    chatModel: settings.CHAT_MODEL_DEPLOYMENT_NAME ?? defaultChatModel(model),
    embeddingModel: settings.EMBEDDING_MODEL_DEPLOYMENT_NAME,
    modelTimeoutMs: settings.MODEL_TIMEOUT_MS,
    requestDeadlineMs: settings.REQUEST_DEADLINE_MS,
    modelMaxRetries: settings.MODEL_MAX_RETRIES,
    modelReasoning: settings.MODEL_REASONING,
    modelReasoningEffort: settings.MODEL_REASONING_EFFORT,
    chatStorage: readStorage(env, chatStorageSetting),
    storage: readStorage(env, 'AzureWebJobsStorage'),
    chatTableName: settings.CHAT_TABLE_NAME ?? 'ChatState',
    // Beside the chat table by default, so each CHAT_TABLE_NAME (each test app) gets its own todo table.
    todoTableName: settings.CHAT_TODO_TABLE_NAME ?? `${(settings.CHAT_TABLE_NAME ?? 'ChatState').slice(0, 58)}Todos`,
    maxToolRounds: settings.CHAT_MAX_TOOL_ROUNDS,
    toolTimeoutMs: settings.CHAT_TOOL_TIMEOUT_MS,
    search: {
      endpoint: settings.AZURE_SEARCH_ENDPOINT,
      index: settings.AZURE_SEARCH_INDEX ?? 'gptkbindex',
      apiKey: settings.AZURE_SEARCH_API_KEY,
      clientId: settings.AZURE_CLIENT_ID,
    },
    historyTokens: settings.CHAT_HISTORY_TOKENS,
    maxOutputTokens: settings.MAX_OUTPUT_TOKENS,
    modelContextTokens: settings.MODEL_CONTEXT_TOKENS,
    maxBodyBytes: settings.MAX_BODY_BYTES,
    maxImageBytes: settings.MAX_IMAGE_BYTES,
    maxImages: settings.MAX_IMAGES,
    trustClientPrincipal: settings.TRUST_CLIENT_PRINCIPAL,
    requireAccessControl: settings.REQUIRE_ACCESS_CONTROL,
    ragSystemPrompt: settings.RAG_SYSTEM_PROMPT?.trim() === '' ? undefined : settings.RAG_SYSTEM_PROMPT,
    maxDocumentBytes: settings.MAX_DOCUMENT_BYTES,
    maxDocumentPages: settings.MAX_DOCUMENT_PAGES,
    maxDocumentTextChars: settings.MAX_DOCUMENT_TEXT_CHARS,
    contentContainer: settings.CONTENT_CONTAINER ?? 'content',
    ingestSampleData: settings.INGEST_SAMPLE_DATA,
    port: settings.PORT,
    host: settings.HOST ?? '127.0.0.1',
  };
}

/** Azure's conventional deployment name, and OpenAI's small model; local servers must name their model. */
function defaultChatModel(model: ModelProvider): string | undefined {
  if (model.kind === 'azure') return DEFAULT_AZURE_CHAT_DEPLOYMENT;
  if (model.kind === 'openai' && model.baseURL == null) return DEFAULT_OPENAI_CHAT_MODEL;
  return undefined;
}

let current: AppConfig | undefined;

/** The process-wide configuration, parsed on first use. */
export function config(): AppConfig {
  current ??= loadConfig();
  return current;
}

/**
 * Port and interface of the local host, read even when other settings are invalid: the host still starts and
 * answers 503 configuration_error on every route, as the Azure host would.
 */
export function listenSettings(env: NodeJS.ProcessEnv = process.env): { port: number; host: string; portSet: boolean } {
  const parsed = environmentSchema.pick({ PORT: true, HOST: true }).safeParse(env);
  if (!parsed.success) throw new ConfigError(`Invalid settings: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  return { port: parsed.data.PORT, host: parsed.data.HOST ?? '127.0.0.1', portSet: env.PORT != null && env.PORT.trim() !== '' };
}
