import { parentPort } from 'node:worker_threads';
import { AppError } from '../errors/index.js';
import type { ParseJob, ParseReply } from './parse-isolated.js';
import { prepareChunks } from './prepare.js';

// The worker thread of ingest/parse-isolated.ts: reads the documents it is sent, one at a time, and posts
// back each one's chunks or its 4xx. It stays alive between documents (loading the tokenizer takes ~0.4 s).

// pdf.js inflates a page's compressed content in one go through DecompressionStream when it exists, into
// thousands of small chunks that glibc keeps after the worker is stopped (a killed 1 GB bomb left 1.1 GB
// resident, reused only partly). Without it pdf.js inflates in JavaScript, lazily, into one growing buffer
// that is released when the worker stops (measured below in docs/reliability.md).
Reflect.deleteProperty(globalThis, 'DecompressionStream');

parentPort?.on('message', (job: ParseJob) => {
  prepareChunks(job.input, job.limits, job.version).then(
    (document) => reply({ ok: true, document }),
    (error: unknown) =>
      reply(
        error instanceof AppError
          ? { ok: false, status: error.status, code: error.code, message: error.message }
          : { ok: false, message: error instanceof Error ? error.message : String(error) },
      ),
  );
});

function reply(message: ParseReply): void {
  parentPort?.postMessage(message);
}
