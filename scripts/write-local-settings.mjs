#!/usr/bin/env node
// azd postprovision hook: points local runs (`npm start`, `func start`) at the resources `azd provision`
// created, by merging their endpoints into local.settings.json. Only the settings below are written;
// every other value in an existing file is kept. Nothing secret is written: access is keyless (Entra ID via
// `az login`), so the file holds endpoints and names only.
//
// Usage: node scripts/write-local-settings.mjs [path/to/local.settings.json]
// Values come from the environment (azd passes its environment's values to hooks), else from
// `azd env get-values`.
import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const file = path.resolve(process.argv[2] ?? 'local.settings.json');

/** azd environment value name -> local setting name; the first three are required. */
const fromAzd = [
  ['AZURE_OPENAI_ENDPOINT', 'AZURE_OPENAI_ENDPOINT'],
  ['AZURE_SEARCH_ENDPOINT', 'AZURE_SEARCH_ENDPOINT'],
  ['AZURE_STORAGE_ACCOUNT_NAME', 'AzureWebJobsStorage__accountName'],
  ['CHAT_MODEL_DEPLOYMENT_NAME', 'CHAT_MODEL_DEPLOYMENT_NAME'],
  ['EMBEDDING_MODEL_DEPLOYMENT_NAME', 'EMBEDDING_MODEL_DEPLOYMENT_NAME'],
  ['AZURE_SEARCH_INDEX', 'AZURE_SEARCH_INDEX'],
  ['CHAT_TABLE_NAME', 'CHAT_TABLE_NAME'],
];
const required = fromAzd.slice(0, 3).map(([name]) => name);

/** Settings that would send local runs somewhere else, or with credentials Azure no longer accepts. */
const conflicting = ['AZURE_OPENAI_API_KEY', 'AZURE_SEARCH_API_KEY', 'AzureWebJobsStorage__credential', 'AzureWebJobsStorage__clientId'];

function fail(message) {
  console.error(`write-local-settings: ${message}`);
  process.exit(1);
}

function azdEnvironment() {
  if (required.every((name) => process.env[name])) return process.env;
  try {
    const output = execFileSync('azd', ['env', 'get-values', '--output', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { ...JSON.parse(output), ...process.env };
  } catch (error) {
    const reason = error?.code === 'ENOENT' ? 'azd is not installed' : String(error?.message ?? error).split('\n')[0];
    fail(`the azd environment values are not set and \`azd env get-values\` failed (${reason}). Run \`azd provision\` first.`);
  }
}

function readExisting() {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error?.code === 'ENOENT') return { IsEncrypted: false, Values: {} };
    throw error;
  }
  let parsed;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    fail(`${file} is not valid JSON (${error.message}); fix or remove it, nothing was changed.`);
  }
  if (parsed == null || typeof parsed !== 'object' || Array.isArray(parsed)) fail(`${file} must hold a JSON object; nothing was changed.`);
  if (parsed.IsEncrypted === true) fail(`${file} is encrypted; decrypt it (func settings decrypt) first; nothing was changed.`);
  if (parsed.Values != null && (typeof parsed.Values !== 'object' || Array.isArray(parsed.Values))) fail(`${file}: "Values" must be an object; nothing was changed.`);
  return { IsEncrypted: false, ...parsed, Values: { ...parsed.Values } };
}

const env = azdEnvironment();
const missing = required.filter((name) => !env[name]);
if (missing.length > 0) fail(`missing azd environment values: ${missing.join(', ')}. Run \`azd provision\` first.`);

const settings = readExisting();
const written = [];
const set = (name, value) => {
  settings.Values[name] = value;
  written.push(name);
};
settings.Values.FUNCTIONS_WORKER_RUNTIME ??= 'node';
// Empty, not UseDevelopmentStorage=true: storage is the provisioned account, reached with your sign-in.
set('AzureWebJobsStorage', '');
for (const [azdName, settingName] of fromAzd) {
  if (env[azdName]) set(settingName, env[azdName]);
}

const temporary = `${file}.${process.pid}.tmp`;
writeFileSync(temporary, `${JSON.stringify(settings, null, 2)}\n`);
renameSync(temporary, file);

const kept = Object.keys(settings.Values).filter((name) => !written.includes(name));
console.log(`write-local-settings: ${path.basename(file)}: set ${written.join(', ')}; kept ${kept.length} other value(s).`);
const stale = conflicting.filter((name) => settings.Values[name]);
if (stale.length > 0) {
  console.warn(`write-local-settings: ${stale.join(', ')} ${stale.length === 1 ? 'is' : 'are'} set and override keyless sign-in; clear them to use \`az login\`.`);
}
