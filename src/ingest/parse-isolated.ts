import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { AppError, payloadTooLarge, type ErrorCode } from '../errors/index.js';
import { admitDocument, type DocumentLimits, type IngestInput, type PreparedDocument } from './prepare.js';

// Reading a document (pdf.js, htmlparser2, the splitter and the tokenizer) runs in a worker thread, one
// document at a time, so that no document can stall the instance or exhaust its memory: the request thread
// stays free (health answers during the parse), and a parse that passes its memory or time budget is killed
// and answered 413. resourceLimits bound only the worker's JavaScript heap; pdf.js keeps decoded streams in
// ArrayBuffers, outside it (a 250 KB PDF whose stream inflates to 4 GB reached 8.5 GB of RSS with no heap
// growth at all), so the process's resident memory is watched as well while a parse runs.


export interface ParseJob {
  input: IngestInput;
  limits: DocumentLimits;
  version: string;
}

export type ParseReply =
  | { ok: true; document: PreparedDocument }
  | { ok: false; status?: number; code?: ErrorCode; message: string };

/** The worker's old-generation heap (its objects: pdf.js's text items, pages, chunks). */
export const PARSE_HEAP_MB = 512;
/**
 * Resident memory a parse may add to the process (heap and ArrayBuffers together). Measured: the largest
 * document the default limits admit (2,000 dense PDF pages, 5 million characters) adds about 170 MB.
 */
export const PARSE_MEMORY_MB = 512;
/** Longest one parse may run: far above a 2,000-page PDF, far below Azure's 230 s HTTP limit. */
export const PARSE_TIME_MS = 60_000;
/** A parse's budgets; tests pass small ones to reach each refusal. */
export interface ParseBudgets {
  heapMb: number;
  memoryMb: number;
  timeMs: number;
}

const defaultBudgets: ParseBudgets = { heapMb: PARSE_HEAP_MB, memoryMb: PARSE_MEMORY_MB, timeMs: PARSE_TIME_MS };

/** How often resident memory is sampled during a parse. */
const WATCH_MS = 10;
/** An idle worker is stopped after this long, returning its memory. */
const IDLE_MS = 30_000;

/** The compiled worker beside this module (dist/src/ingest/ in the build, where every host loads it from). */
const workerScript = path.join(__dirname, 'parse-worker.js');

let queue: Promise<unknown> = Promise.resolve();
let idle: { worker: Worker; timer: NodeJS.Timeout } | undefined;

/**
 * `prepareChunks` in a worker thread with memory and time budgets, one document at a time (a second upload
 * waits for the first: each may use the whole budget). Name, size and type are checked here first, so a
 * file refused for those reaches no worker.
 */
export function prepareChunksIsolated(input: IngestInput, limits: DocumentLimits, version = '', budgets = defaultBudgets): Promise<PreparedDocument> {
  const { name } = admitDocument(input, limits.bytes);
  const run = queue.then(() => parseInWorker(name, { input, limits, version }, budgets));
  queue = run.catch(() => undefined);
  return run;
}

/** The idle worker (it has the default heap), or a new one. Unreferenced: it never keeps the process alive by itself. */
function takeWorker(heapMb: number): Worker {
  if (idle != null && heapMb === PARSE_HEAP_MB) {
    clearTimeout(idle.timer);
    const { worker } = idle;
    idle = undefined;
    return worker;
  }
  const worker = new Worker(workerScript, { resourceLimits: { maxOldGenerationSizeMb: heapMb } });
  worker.unref();
  // Between parses nobody else listens: an idle worker that fails is only forgotten, never a crash.
  worker.on('error', () => undefined).on('exit', () => {
    if (idle?.worker === worker) idle = undefined;
  });
  return worker;
}

function keepIdle(worker: Worker): void {
  const timer = setTimeout(() => {
    if (idle?.worker === worker) idle = undefined;
    void worker.terminate();
  }, IDLE_MS);
  timer.unref();
  idle = { worker, timer };
}

function parseInWorker(name: string, job: ParseJob, budgets: ParseBudgets): Promise<PreparedDocument> {
  return new Promise<PreparedDocument>((resolve, reject) => {
    const worker = takeWorker(budgets.heapMb);
    const ceiling = process.memoryUsage.rss() + budgets.memoryMb * 1024 * 1024;
    const tooComplex = (why: string) =>
      payloadTooLarge(`"${name}" is too complex to read: ${why}. Split it into smaller documents, or save it without compressed or embedded content.`);
    let finished = false;
    const finish = (outcome: () => void, reusable = false) => {
      if (finished) return;
      finished = true;
      clearInterval(watch);
      clearTimeout(timer);
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      if (reusable && budgets.heapMb === PARSE_HEAP_MB) {
        keepIdle(worker);
        outcome();
        return;
      }
      // A worker stopped mid-parse (or broken) is thrown away. The answer waits until it is gone, so the next
      // parse starts (and measures its memory budget) after the worker's memory has been released.
      void worker.terminate().catch(() => undefined).then(outcome);
    };
    // Only a worker that finished its document is kept: one that refused it may still be parsing it.
    const onMessage = (reply: ParseReply) =>
      finish(() => {
        if (reply.ok) resolve(reply.document);
        else reject(reply.status != null && reply.code != null ? new AppError(reply.status, reply.code, reply.message) : new Error(`Reading "${name}" failed: ${reply.message}`));
      }, reply.ok);
    const onError = (error: Error & { code?: string }) =>
      finish(() => reject(error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? tooComplex(`reading it needed more than ${budgets.heapMb} MB of memory`) : error));
    const onExit = (code: number) => finish(() => reject(new Error(`The document reader stopped (exit code ${code}) before answering for "${name}".`)));
    const watch = setInterval(() => {
      if (process.memoryUsage.rss() > ceiling) {
        finish(() => reject(tooComplex(`reading it needed more than ${budgets.memoryMb} MB of memory`)));
      }
    }, WATCH_MS);
    const timer = setTimeout(() => finish(() => reject(tooComplex(`reading it took longer than ${budgets.timeMs / 1000} s`))), budgets.timeMs);
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    worker.postMessage(job);
  });
}
