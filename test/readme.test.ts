import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startApp, waitForSampleCorpus, type RunningApp } from './support/app.js';
import { echoResponder, startFakeModel, type FakeModel } from './support/fake-model.js';
import { toolDriver } from './support/tool-driver.js';

// Every curl example in the README runs as written, in README order, from the repository root of a fresh
// clone (its files are the ones a reader has), against the local host. curl gets --fail-with-body so a 4xx or
// 5xx fails the example. The one value a reader must copy by hand — the tool call id of the client-tool example
// (shown as call_abc) — is copied from the answer before it, as the reader would.

const run = promisify(execFile);
const readme = await readFile(path.join(repoRoot, 'README.md'), 'utf8');

/** Each curl command of the README's bash blocks, with its continuation lines joined. */
function curlExamples(markdown: string): { line: number; command: string }[] {
  const examples: { line: number; command: string }[] = [];
  const lines = markdown.split('\n');
  let inBash = false;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    if (/^```/.test(line)) {
      inBash = !inBash && line.trim() === '```bash';
      continue;
    }
    if (!inBash || !line.startsWith('curl ')) continue;
    let command = line;
    const start = index + 1;
    // A trailing backslash continues the command; so does an open quote (a JSON body over several lines).
    while (/\\$/.test(command) || (command.split("'").length - 1) % 2 === 1) command = `${command}\n${lines[++index]!}`;
    examples.push({ line: start, command });
  }
  return examples;
}

const examples = curlExamples(readme);

let model: FakeModel;
let app: RunningApp;
beforeAll(async () => {
  model = await startFakeModel();
  model.responder = toolDriver(echoResponder);
  // A fresh clone's first start ingests the sample documents (tests turn that off unless asked).
  app = await startApp({ OPENAI_BASE_URL: model.url, CHAT_MODEL_DEPLOYMENT_NAME: 'test-model', INGEST_SAMPLE_DATA: 'true' });
  // The content example cites a sample document the first start ingests.
  await waitForSampleCorpus(app);
}, 120_000);
afterAll(async () => {
  await app?.stop();
  await model?.stop();
});

describe('README examples', () => {
  it('has the examples a reader tries first', () => {
    expect(examples.length).toBeGreaterThan(20);
    expect(examples.map(({ command }) => command)).toEqual(expect.arrayContaining([expect.stringContaining('--data-binary @testdata.json'), expect.stringContaining('-F "file=@data/')]));
  });

  it('runs every curl example as written, in order', async () => {
    let lastToolCallId: string | undefined;
    const failures: string[] = [];
    for (const { line, command } of examples) {
      let script = command.replaceAll('http://localhost:7071/api', app.baseUrl).replace(/^curl /, 'curl -sS --fail-with-body --max-time 60 ');
      if (script.includes('call_abc')) {
        expect(lastToolCallId, `README line ${line} needs the id of the tool call before it`).toBeDefined();
        script = script.replaceAll('call_abc', lastToolCallId!);
      }
      try {
        const { stdout } = await run('bash', ['-c', script], { cwd: repoRoot, maxBuffer: 32 * 1024 * 1024 });
        lastToolCallId = /"toolCalls":\[\{"id":"([^"]+)"/.exec(stdout)?.[1] ?? lastToolCallId;
      } catch (error: unknown) {
        const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
        failures.push(`README line ${line}: ${command.split('\n')[0]}\n  ${stderr.trim()} ${stdout.slice(0, 300)}`);
      }
    }
    expect(failures).toEqual([]);
  }, 240_000);
});
