#!/usr/bin/env node
// `npm run ingest -- <files or folders>`: stores, splits, embeds (when configured) and indexes documents in
// bulk with the same pipeline as POST /api/documents. Re-running replaces each file's chunks exactly.
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { config, developmentStorage } from '../src/config.js';
import { startAzurite } from '../src/dev/azurite.js';
import { loadLocalSettings } from '../src/dev/settings.js';
import { collectFiles, ingestFiles } from '../src/ingest/files.js';
import { ingestDependencies } from '../src/services.js';

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv.includes('--help')) {
    console.log('Usage: npm run ingest -- <files or folders>...\nIngests .pdf, .md, .txt and .html files (folders recursively).');
    return argv.length === 0 ? 2 : 0;
  }
  await loadLocalSettings(path.resolve('local.settings.json'));
  const settings = config();
  const children: ChildProcess[] = [];
  if (settings.storage.connectionString === developmentStorage) {
    children.push(...(await startAzurite(path.resolve('.azurite'))).children);
  }
  try {
    const files = await collectFiles(argv);
    if (files.length === 0) {
      console.error('No .pdf, .md, .txt or .html files found.');
      return 1;
    }
    const backend = settings.search.endpoint == null ? 'local index in .data/' : `Azure AI Search index "${settings.search.index}"`;
    const embeddings = settings.embeddingModel == null ? 'no embeddings (text search only)' : `embeddings from ${settings.embeddingModel}`;
    console.log(`Ingesting ${files.length} files into the ${backend}, ${embeddings}.`);
    const { SingleBar, Presets } = require('cli-progress') as typeof import('cli-progress');
    const bar = new SingleBar({ format: ' {bar} {value}/{total} files | {file}', hideCursor: true }, Presets.shades_classic);
    bar.start(files.length, 0, { file: '' });
    const summary = await ingestFiles(files, await ingestDependencies(), (file, done) => bar.update(done, { file: path.basename(file) }));
    bar.stop();
    const seconds = summary.milliseconds / 1000;
    console.log(
      `Done: ${summary.files} files, ${summary.pages} pages, ${summary.chunks} chunks in ${seconds.toFixed(1)} s` +
        ` (${(summary.pages / Math.max(seconds, 0.001)).toFixed(0)} pages/s).`,
    );
    for (const failure of summary.failed) console.error(`Failed: ${failure.file}: ${failure.message}`);
    return summary.failed.length > 0 ? 1 : 0;
  } finally {
    for (const child of children) child.kill('SIGTERM');
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
