// Starts the app the way a user does (`node dist/src/dev/main.js`, the built local host) in a child process
// with its own settings, and talks to it over real HTTP.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const hostEntry = path.join(repoRoot, 'dist/src/dev/main.js');

export interface RunningApp {
  /** e.g. http://localhost:54321/api */
  baseUrl: string;
  /** Everything the host printed, for assertions (and secret scans). */
  output: () => string;
  /** What it printed on stderr: warnings and errors (information goes to stdout). */
  errors: () => string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Waits for the app's start-up ingestion of the sample corpus (INGEST_SAMPLE_DATA=true); fails with its output. */
export async function waitForSampleCorpus(app: RunningApp, timeoutMs = 60_000): Promise<void> {
  for (const started = Date.now(); Date.now() - started < timeoutMs; ) {
    if (app.output().includes('Sample data indexed')) return;
    if (app.output().includes('Sample data was not indexed')) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`sample corpus was not ingested:\n${app.output()}`);
}

let counter = 0;

/** A table name of its own per app, so test files never see each other's chats. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}${process.pid}x${counter}x${Date.now().toString(36)}`.replace(/[^A-Za-z0-9]/g, '');
}

/**
 * `cwd`: run in this working directory (kept on stop) instead of a fresh temporary one. `appRoot`: a copy of
 * the app (its `dist/` and `host.json`) to run instead of this repository's build.
 */
export async function startApp(env: Record<string, string | undefined> = {}, options: { cwd?: string; appRoot?: string } = {}): Promise<RunningApp> {
  const cwd = options.cwd ?? (await mkdtemp(path.join(tmpdir(), 'app-')));
  const childEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? cwd,
    PORT: '0',
    AzureWebJobsStorage: inject('storageConnection'),
    CHAT_TABLE_NAME: uniqueName('chats'),
    MODEL_MAX_RETRIES: '1',
    MODEL_TIMEOUT_MS: '5000',
    // Tests ingest what they need; the first-start sample ingestion is tested on its own.
    INGEST_SAMPLE_DATA: 'false',
  };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[name];
    else childEnv[name] = value;
  }
  const entry = options.appRoot == null ? hostEntry : path.join(options.appRoot, 'dist/src/dev/main.js');
  const child = spawn(process.execPath, [entry], { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let errors = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    errors += chunk.toString();
  });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`host did not start:\n${output}`)), 20_000);
    const check = () => {
      const match = /Listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1] != null) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`host exited with ${code}:\n${output}`));
    });
  });
  return {
    baseUrl,
    output: () => output,
    errors: () => errors,
    process: child,
    async stop() {
      // A process killed by a signal (crash tests SIGKILL it) has no exit code but has exited.
      if (child.exitCode == null && child.signalCode == null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      if (options.cwd == null) await rm(cwd, { recursive: true, force: true });
    },
  };
}

/** Reads a Server-Sent Events body into its events. */
export function parseSse(text: string): { event: string; data: unknown }[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      return { event, data: JSON.parse(data.join('\n')) as unknown };
    });
}
