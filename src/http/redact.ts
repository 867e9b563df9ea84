import { config, type AppConfig, type StorageSettings } from '../config.js';

// Upstream error messages can echo what they were sent: OpenAI's 401 repeats the API key it rejected, a
// storage SDK error can quote a connection string or a SAS URL. Anything written to a log goes through here.

/** Key-like parts of connection strings, URLs and headers, whatever their value, with their replacement. */
const secretPatterns: [RegExp, string][] = [
  [/(AccountKey|SharedAccessKey|SharedAccessSignature)=[^;\s"']+/gi, '$1=***'],
  [/([?&](?:sig|code|api-key|key)=)[^&\s"']+/gi, '$1***'],
  [/(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi, '$1***'],
  [/\bsk-[A-Za-z0-9_-]{8,}/g, 'sk-***'],
];

function storageSecrets(storage: StorageSettings): string[] {
  const connection = storage.connectionString ?? '';
  return [...connection.matchAll(/(?:AccountKey|SharedAccessSignature|SharedAccessKey)=([^;]+)/gi)].map((match) => match[1] ?? '');
}

/** The configured secret values themselves, so they are caught in any surrounding text. */
function configuredSecrets(settings: AppConfig): string[] {
  const values = [
    settings.model.kind === 'none' ? undefined : settings.model.apiKey,
    settings.search.apiKey,
    ...storageSecrets(settings.storage),
    ...storageSecrets(settings.chatStorage),
  ];
  return values.filter((value): value is string => value != null && value.length >= 8);
}

/** Logging must not throw because a setting is invalid. */
function currentSecrets(): string[] {
  try {
    return configuredSecrets(config());
  } catch {
    return [];
  }
}

/** Replaces configured secret values and key-like fragments with `***`. */
export function redactSecrets(text: string, secrets: string[] = currentSecrets()): string {
  let result = text;
  for (const secret of secrets) result = result.split(secret).join('***');
  for (const [pattern, replacement] of secretPatterns) result = result.replace(pattern, replacement);
  return result;
}
