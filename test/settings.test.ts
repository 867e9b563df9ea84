import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, developmentStorage, loadConfig } from '../src/config.js';
import { loadLocalSettings } from '../src/dev/settings.js';

describe('local.settings.json', () => {
  it('loads Values without overriding variables already set', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'settings-'));
    const file = path.join(dir, 'local.settings.json');
    await writeFile(file, JSON.stringify({ IsEncrypted: false, Values: { A: 'from-file', B: 'from-file' } }));
    const env: NodeJS.ProcessEnv = { A: 'from-env' };
    expect(await loadLocalSettings(file, env)).toEqual(['B']);
    expect(env).toEqual({ A: 'from-env', B: 'from-file' });
  });

  it('is optional', async () => {
    expect(await loadLocalSettings('/nonexistent/local.settings.json', {})).toEqual([]);
  });
});

describe('config', () => {
  it('defaults to Azurite, 8000 history tokens and 1024 output tokens', () => {
    const config = loadConfig({});
    expect(config.storage.connectionString).toBe(developmentStorage);
    expect(config.model).toEqual({ kind: 'none' });
    expect(config.historyTokens).toBe(8000);
    expect(config.maxOutputTokens).toBe(1024);
    expect(config.modelContextTokens).toBe(128_000);
    expect(config.chatTableName).toBe('ChatState');
    expect(config.port).toBe(7071);
  });

  it('prefers Azure OpenAI and defaults its deployment to chat', () => {
    const config = loadConfig({ AZURE_OPENAI_ENDPOINT: 'https://x.openai.azure.com/', OPENAI_BASE_URL: 'http://localhost:11434/v1' });
    expect(config.model).toMatchObject({ kind: 'azure', endpoint: 'https://x.openai.azure.com/' });
    expect(config.chatModel).toBe('chat');
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ OPENAI_BASE_URL: '', EMBEDDING_MODEL_DEPLOYMENT_NAME: '' })).toMatchObject({ model: { kind: 'none' } });
  });

  it('reads identity-based storage for the chat connection', () => {
    const config = loadConfig({
      CHAT_STORAGE_CONNECTION: 'ChatStorage',
      ChatStorage__accountName: 'acct',
      ChatStorage__credential: 'managedidentity',
      ChatStorage__clientId: 'client-1',
    });
    expect(config.chatStorage).toMatchObject({ settingName: 'ChatStorage', accountName: 'acct', clientId: 'client-1', connectionString: undefined });
  });

  it('names a bad setting', () => {
    expect(() => loadConfig({ CHAT_HISTORY_TOKENS: 'lots' })).toThrow(ConfigError);
    expect(() => loadConfig({ CHAT_HISTORY_TOKENS: 'lots' })).toThrow(/CHAT_HISTORY_TOKENS/);
  });
});
