import { parentPort } from 'node:worker_threads';
import { AppError } from '../errors/index.js';
import type { ParseJob, ParseReply } from './parse-isolated.js';
import { prepareChunks } from './prepare.js';

// The worker thread of ingest/parse-isolated.ts: reads the documents it is sent, one at a time, and posts
// back each one's chunks or its 4xx. It is kept for the next document after a success (loading the
// tokenizer takes ~0.4 s) and stopped after a refusal.

// pdf.js inflates a page's compressed content in one go through DecompressionStream when it exists, into
// thousands of small chunks that glibc keeps after the worker is stopped (a killed 1 GB bomb left 1.1 GB
// resident, reused only partly). Without it pdf.js inflates in JavaScript, lazily, into one growing buffer
// that is released when the worker stops (measured below in docs/reliability.md).
Reflect.deleteProperty(globalThis, 'DecompressionStream');

/** Whether a document is being read: its reply is still owed. */
let busy = false;

parentPort?.on('message', (job: ParseJob) => {
  busy = true;
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

// After a refusal pdf.js goes on parsing the page it was stopped in, and fails later on the text stream it
// was told to cancel ("Controller is already closed"). The main thread stops a worker after any refusal;
// until then such late failures are not this worker's answer. One while a document is read is.
process.on('uncaughtException', (error: unknown) => {
  if (busy) reply({ ok: false, message: error instanceof Error ? error.message : String(error) });
});

function reply(message: ParseReply): void {
  busy = false;
  parentPort?.postMessage(message);
}
