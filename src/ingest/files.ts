import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors/index.js';
import { documentType } from './loaders.js';
import { ingestDocument, type IngestDependencies } from './pipeline.js';

// Bulk ingestion from the file system, for the CLI and the local host's first-start sample corpus.

export interface IngestSummary {
  files: number;
  pages: number;
  chunks: number;
  failed: { file: string; message: string }[];
  milliseconds: number;
}

const canIngest = (file: string) => {
  try {
    documentType(path.basename(file), undefined);
    return true;
  } catch {
    return false;
  }
};

/** Supported files under the given files or folders (recursively; hidden entries skipped), sorted. */
export async function collectFiles(inputs: string[]): Promise<string[]> {
  const found: string[] = [];
  async function visit(entry: string, explicit: boolean): Promise<void> {
    const info = await stat(entry);
    if (info.isDirectory()) {
      for (const child of await readdir(entry)) {
        if (!child.startsWith('.')) await visit(path.join(entry, child), false);
      }
    } else if (info.isFile() && (explicit || canIngest(entry))) {
      found.push(entry);
    }
  }
  for (const input of inputs) await visit(path.resolve(input), true);
  return [...new Set(found)].sort();
}

/** Ingests files one by one (a failure is recorded, not fatal); `onFile` reports progress. */
export async function ingestFiles(
  files: string[],
  dependencies: IngestDependencies,
  onFile: (file: string, done: number, result?: { pages: number; chunks: number }) => void = () => undefined,
): Promise<IngestSummary> {
  const started = performance.now();
  const summary: IngestSummary = { files: 0, pages: 0, chunks: 0, failed: [], milliseconds: 0 };
  for (const [index, file] of files.entries()) {
    try {
      const info = await stat(file);
      if (info.size > dependencies.limits.bytes) {
        throw new Error(`${info.size} bytes is over the ${dependencies.limits.bytes}-byte limit (MAX_DOCUMENT_BYTES)`);
      }
      const result = await ingestDocument({ name: path.basename(file), bytes: await readFile(file) }, dependencies);
      summary.files += 1;
      summary.pages += result.pages;
      summary.chunks += result.chunks;
      onFile(file, index + 1, result);
    } catch (error: unknown) {
      // Configuration and service failures stop the run; a bad file does not.
      if (error instanceof AppError && error.status >= 500) throw error;
      summary.failed.push({ file, message: error instanceof Error ? error.message : String(error) });
      onFile(file, index + 1);
    }
  }
  summary.milliseconds = performance.now() - started;
  return summary;
}
