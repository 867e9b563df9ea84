import { access } from 'node:fs/promises';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startAzurite } from './azurite.js';

declare module 'vitest' {
  export interface ProvidedContext {
    storageConnection: string;
  }
}

/** One Azurite for the whole run; every app under test gets its own table names in it. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  try {
    await access(path.resolve('dist/src/dev/main.js'));
  } catch {
    throw new Error('The app is not built: run `npm test` (it builds first) or `npm run build`.');
  }
  const azurite = await startAzurite();
  project.provide('storageConnection', azurite.connectionString);
  return () => azurite.stop();
}
