import { readFile } from 'node:fs/promises';

/**
 * Loads `Values` from local.settings.json into the environment as Core Tools does: variables that are
 * already set win. Returns the names it set (never their values: they may be keys).
 */
export async function loadLocalSettings(file: string, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error: unknown) {
    throw new Error(`${file} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const values = typeof parsed === 'object' && parsed != null ? (parsed as { Values?: unknown }).Values : undefined;
  if (values == null) return [];
  if (typeof values !== 'object') throw new Error(`${file}: "Values" must be an object of strings.`);
  const applied: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (env[name] !== undefined || value == null) continue;
    env[name] = String(value);
    applied.push(name);
  }
  return applied;
}
