// The playground page (GET /api/playground) in a real browser: Debian's Chromium driven by playwright-core,
// against the built local host, the fake model and Azurite, like the other integration tests. One browser
// for the file; each test gets a fresh context (no shared storage). Screenshots of each step go to
// test-results/playground/ (git-ignored) so a person can look at what the page showed.
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { repoRoot, startApp, waitForSampleCorpus, type RunningApp } from './support/app.js';
import { startFakeModel, type ChatBody, type FakeModel, type Reply } from './support/fake-model.js';

const SCREENSHOTS = path.join(repoRoot, 'test-results/playground');
// Any name that is not localhost: the page treats it as Azure and asks for the function key.
const REMOTE_HOST = 'playground.test';

/** The system Chromium (`apt-get install chromium`; .ci/run installs it): playwright's own download cannot work here. */
function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  const found = candidates.find((candidate): candidate is string => candidate != null && candidate !== '' && existsSync(candidate));
  if (found == null) throw new Error('No Chromium found: run `apt-get install -y chromium` (bash .ci/run does) or set CHROMIUM_PATH.');
  return found;
}

/** A real 24x24 PNG (a blue square), so the page's preview shows an image. */
function bluePng(): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([length, body, sum]);
  };
  const size = 24;
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: size }, () => [30, 90, 200]).flat())]);
  const pixels = deflateSync(Buffer.concat(Array.from({ length: size }, () => row)));
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', header), chunk('IDAT', pixels), chunk('IEND', Buffer.alloc(0))]);
}
const PNG = bluePng();

const textOf = (content: unknown): string =>
  typeof content === 'string'
    ? content
    : Array.isArray(content)
      ? content.map((part: { text?: string }) => part.text ?? '').join('\n')
      : '';
const lastUser = (body: ChatBody) => [...body.messages].reverse().find((message) => message.role === 'user');
const sourcesIn = (body: ChatBody) =>
  textOf(lastUser(body)?.content).split('\nSources:\n')[1]?.split('\n').map((line) => line.slice(0, line.indexOf(': '))) ?? [];

/** Chat with your data as a model does it: a search_sources call, then an answer citing the first source. */
function ragResponder(body: ChatBody): Reply {
  if (body.tools?.some((tool) => tool.function.name === 'search_sources')) {
    const question = textOf(lastUser(body)?.content).replace('Generate a search query for: ', '');
    return { toolCalls: [{ name: 'search_sources', arguments: JSON.stringify({ search_query: question }) }] };
  }
  const [first] = sourcesIn(body);
  return { content: `Yes: annual eye exams are covered [${first ?? 'none'}]. <<What is my deductible?>> <<Are glasses covered?>>` };
}

/** Waits for what the page shows; generous because 2 shared cores make a turn take seconds at worst. */
const until = <T>(read: () => Promise<T> | T) => expect.poll(read, { timeout: 15_000, interval: 100 });

let model: FakeModel;
let app: RunningApp;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let step = 0;

async function shot(name: string, target: Page = page, fullPage = true): Promise<void> {
  step += 1;
  await target.screenshot({ path: path.join(SCREENSHOTS, `${String(step).padStart(2, '0')}-${name}.png`), fullPage });
}

async function open(baseUrl: string, tab = ''): Promise<void> {
  await page.goto(`${baseUrl}/playground${tab === '' ? '' : `#${tab}`}`);
  await page.waitForSelector('html[data-ready="true"]');
}


beforeAll(async () => {
  await rm(SCREENSHOTS, { recursive: true, force: true });
  await mkdir(SCREENSHOTS, { recursive: true });
  model = await startFakeModel();
  const launching = chromium.launch({
    executablePath: chromiumPath(),
    // Chromium's sandbox needs an unprivileged user; CI runs as root.
    args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), `--host-resolver-rules=MAP ${REMOTE_HOST} 127.0.0.1`],
  });
  app = await startApp({ OPENAI_BASE_URL: model.url, CHAT_MODEL_DEPLOYMENT_NAME: 'test-model', INGEST_SAMPLE_DATA: 'true' });
  browser = await launching;
  await waitForSampleCorpus(app);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await model?.stop();
});
beforeEach(async () => {
  model.reset();
  model.chunkDelayMs = 0;
  context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  page = await context.newPage();
  // Anything the page logs as an error (a CSP violation, an uncaught exception) fails the test.
  const problems: string[] = [];
  page.on('console', (message) => {
    // The browser logs every non-2xx response; the tests that expect one check what the page shows instead.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource: the server responded with a status of')) {
      problems.push(message.text());
    }
  });
  page.on('pageerror', (error) => problems.push(String(error)));
  page.on('requestfailed', (request) => {
    // Requests the page aborts on purpose (Stop) are not failures; none of these tests stops one.
    problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`);
  });
  pageProblems = problems;
});
afterEach(async ({ task }) => {
  if (task.result?.state === 'fail') {
    await page.screenshot({ path: path.join(SCREENSHOTS, `failed-${task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`), fullPage: true }).catch(() => undefined);
    console.log(`page text when it failed:\n${await page.locator('main').innerText().catch(() => '?')}`);
  }
  await context?.close();
  expect(pageProblems).toEqual([]);
});
let pageProblems: string[] = [];

describe('GET /api/playground', () => {
  it('is served with a strict CSP, and its assets with their content types', async () => {
    const response = await fetch(`${app.baseUrl}/playground`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("require-trusted-types-for 'script'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await response.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\son[a-z]+=|style=/i);
    const script = await fetch(`${app.baseUrl}/playground/main.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const styles = await fetch(`${app.baseUrl}/playground/playground.css`);
    expect(styles.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const missing = await fetch(`${app.baseUrl}/playground/package.json`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('ask: the answer streams into the page, rendered as text (markup in it is not run)', async () => {
    model.chunkDelayMs = 150;
    model.responder = () => ({ content: 'Functions **scale** to zero. <img src=x onerror="document.title=1"> One two three four five six seven.' });
    await open(app.baseUrl);
    await page.locator('#ask-prompt').fill('Tell me about Functions');
    await page.locator('#ask-prompt').press('Control+Enter');
    // Part of the answer is shown while the rest is still coming.
    await page.waitForFunction(() => {
      const text = document.getElementById('ask-answer')?.textContent ?? '';
      return text.includes('scale') && !text.includes('seven.');
    });
    await shot('ask-streaming');
    await page.waitForFunction(() => (document.getElementById('ask-answer')?.textContent ?? '').includes('seven.'));
    await until(() => page.locator('#ask-meta').textContent()).toContain('finish: stop');
    await shot('ask-done');
    expect(await page.locator('#ask-answer strong').textContent()).toBe('scale');
    expect(await page.locator('#ask-answer').textContent()).toContain('<img src=x onerror="document.title=1">');
    expect(await page.locator('#ask-answer img').count()).toBe(0);
    expect(await page.title()).toBe('Playground');
    expect(textOf(lastUser(model.chatBodies()[0]!)?.content)).toBe('Tell me about Functions');
  });

  it('chats: create, a streamed turn, the state, delete', async () => {
    await open(app.baseUrl, 'chats');
    await page.locator('#chat-id').fill('playground-basic');
    await page.locator('#chat-instructions').fill('You are terse.');
    await page.getByRole('button', { name: 'Create / reset' }).click();
    await until(() => page.locator('#chat-log').textContent()).toContain('Chat "playground-basic" created');
    await page.locator('#chat-message').fill('Hello there');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await until(() => page.locator('#chat-log li.assistant').textContent()).toContain('Echo: Hello there');
    await page.getByRole('button', { name: 'State' }).click();
    await until(() => page.locator('#chat-state-json').textContent()).toContain('"totalMessages": 3');
    await shot('chat-turn-and-state');
    expect(model.chatBodies()[0]?.messages[0]).toMatchObject({ role: 'system', content: 'You are terse.' });
    await page.getByRole('button', { name: 'Delete' }).click();
    await until(() => page.locator('#chat-state-json').textContent()).toContain('"exists": false');
    const state = (await (await fetch(`${app.baseUrl}/chats/playground-basic`)).json()) as { exists: boolean };
    expect(state.exists).toBe(false);
  });

  it('chats: a turn with the todo skill shows the tool call as it runs, then the reply', async () => {
    model.responder = (body) => {
      const toolMessage = body.messages.find((message) => message.role === 'tool');
      if (toolMessage == null && body.tools?.some((tool) => tool.function.name === 'todo_add')) {
        return { toolCalls: [{ name: 'todo_add', arguments: JSON.stringify({ title: 'Buy milk' }) }] };
      }
      return { content: `Added it. The skill said: ${textOf(toolMessage?.content)}` };
    };
    await open(app.baseUrl, 'chats');
    await page.locator('#chat-id').fill('playground-todo');
    for (const skill of ['todo_add', 'todo_list']) await page.getByLabel(skill, { exact: true }).check();
    await page.getByRole('button', { name: 'Create / reset' }).click();
    await until(() => page.locator('#chat-log').textContent()).toContain('skills: todo_add, todo_list');
    await page.locator('#chat-message').fill('Remember to buy milk');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const tool = page.locator('#chat-log li.tool', { hasText: 'todo_add' });
    await until(() => tool.textContent()).toMatch(/todo_add \(server\) done in \d+ ms/);
    await until(() => page.locator('#chat-log li.assistant').textContent()).toContain('Added it. The skill said: {"added":');
    expect(await tool.locator('details pre').textContent()).toContain('"title":"Buy milk"');
    await tool.locator('summary').click();
    await shot('chat-todo-skill');
    // The model was offered the two skills and got the skill's result as the tool message.
    expect(model.chatBodies()[0]?.tools?.map((entry) => entry.function.name).sort()).toEqual(['todo_add', 'todo_list']);
    await until(() => page.locator('#chat-state-json').textContent()).toContain('"name": "todo_add"');
  });

  it('chats: a client tool call is answered in the page and the turn completes', async () => {
    model.responder = (body) => {
      const toolMessage = body.messages.find((message) => message.role === 'tool');
      if (toolMessage == null) return { toolCalls: [{ name: 'get_weather', arguments: JSON.stringify({ city: 'Oslo' }) }] };
      return { content: `In Oslo it is ${textOf(toolMessage.content)}.` };
    };
    await open(app.baseUrl, 'chats');
    await page.locator('#chat-id').fill('playground-client-tool');
    await page.getByRole('button', { name: 'Add sample tool' }).click();
    expect(await page.locator('#chat-tools').inputValue()).toContain('"name": "get_weather"');
    await page.getByRole('button', { name: 'Create / reset' }).click();
    await until(() => page.locator('#chat-log').textContent()).toContain('1 client tool(s)');
    await page.locator('#chat-message').fill('What is the weather in Oslo?');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const output = page.getByLabel('Output for get_weather');
    await output.waitFor();
    expect(await page.locator('#chat-log .tool-form pre').textContent()).toBe('{"city":"Oslo"}');
    await until(() => page.locator('#chat-state-json').textContent()).toContain('pendingToolCalls');
    await shot('chat-client-tool-form');
    // While the call is pending, a new message is refused with the API's 409.
    await page.locator('#chat-message').fill('Hello?');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await until(() => page.locator('#panel-chats .error').textContent()).toContain('409 tool_outputs_required');
    // The refused message is not in the transcript; it is back in the box.
    expect(await page.locator('#chat-log li.user').allTextContents()).toEqual(['userWhat is the weather in Oslo?']);
    expect(await page.locator('#chat-message').inputValue()).toBe('Hello?');
    expect(await page.locator('#chat-log li.tool', { hasText: '(client)' }).textContent()).toContain('waiting for your output');
    await output.fill('sunny and 21 degrees');
    await page.getByRole('button', { name: 'Send tool output' }).click();
    await until(() => page.locator('#chat-log li.assistant').last().textContent()).toContain('In Oslo it is sunny and 21 degrees');
    await until(() => page.locator('#chat-log').textContent()).toContain('get_weather answered: sunny and 21 degrees');
    expect(await page.locator('#chat-log li.tool', { hasText: '(client)' }).textContent()).toContain('answered by this page');
    await shot('chat-client-tool-done');
    const answered = model.chatBodies().at(-1);
    expect(answered?.messages.find((message) => message.role === 'tool')?.content).toBe('sunny and 21 degrees');
  });

  it('chat with your data: citations open the PDF page, thoughts, follow-up buttons, an image', async () => {
    model.responder = ragResponder;
    await open(app.baseUrl, 'rag');
    await page.locator('#rag-question').fill('Does my plan cover annual eye exams?');
    await page.locator('#rag-image').setInputFiles({ name: 'card.png', mimeType: 'image/png', buffer: PNG });
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const answer = page.locator('#rag-log li.assistant').first();
    await until(() => answer.locator('.followups button').count()).toBe(2);
    expect(await answer.locator('.answer').textContent()).toBe('Yes: annual eye exams are covered kestrel-health-select.pdf#page=7.');
    expect(await answer.locator('.followups').textContent()).toBe('What is my deductible?Are glasses covered?');
    await shot('rag-answer', page, false); // what docs/playground.png shows
    // The image went to the model with the question.
    const answering = model.chatBodies().find((body) => !body.tools?.length);
    const parts = lastUser(answering!)?.content as { type: string; image_url?: { url: string } }[];
    expect(parts.find((part) => part.type === 'image_url')?.image_url?.url).toBe(`data:image/png;base64,${PNG.toString('base64')}`);
    // Thoughts: collapsed at first, with the steps, token usage and timings when opened.
    const thoughts = answer.locator('details.thoughts');
    expect(await thoughts.evaluate((node: HTMLDetailsElement) => node.open)).toBe(false);
    await thoughts.locator('summary').click();
    const thoughtText = (await thoughts.textContent()) ?? '';
    expect(thoughtText).toContain('Prompt to generate search query');
    expect(thoughtText).toContain('Search results');
    expect(thoughtText).toMatch(/usage: \d+ prompt \+ \d+ completion = \d+ tokens/);
    expect(thoughtText).toMatch(/duration_ms: \d+/);
    expect(await answer.locator('img').count()).toBe(0);
    expect(await page.locator('#rag-log li.user img').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(24);
    await shot('rag-answer-thoughts');
    // A citation opens the cited page of the PDF in a new tab.
    const citation = answer.locator('.answer a.citation');
    expect(await citation.getAttribute('href')).toBe('/api/content/kestrel-health-select.pdf#page=7');
    const [pdfTab] = await Promise.all([context.waitForEvent('page'), citation.click()]);
    const pdfResponse = await pdfTab.waitForResponse((response) => response.url().includes('/api/content/'));
    expect(pdfTab.url()).toBe(`${app.baseUrl}/content/kestrel-health-select.pdf#page=7`);
    expect(pdfResponse.status()).toBe(200);
    // Chromium hands a PDF navigation to its viewer, which hides the response headers from the driver.
    const served = await fetch(pdfTab.url());
    expect(served.headers.get('content-type')).toBe('application/pdf');
    expect(served.headers.get('content-disposition')).toMatch(/^inline/);
    await pdfTab.waitForLoadState('load');
    await pdfTab.waitForTimeout(1500); // the PDF viewer renders after load; this only makes the screenshot useful
    await shot('rag-citation-pdf', pdfTab);
    await pdfTab.close();
    // A follow-up button sends its question as the next turn, with the history.
    const before = model.chatBodies().length;
    await answer.locator('.followups button', { hasText: 'What is my deductible?' }).click();
    await until(() => page.locator('#rag-log li.assistant').count()).toBe(2);
    await until(() => page.locator('#rag-log li.assistant').nth(1).locator('.followups button').count()).toBe(2);
    expect(await page.locator('#rag-log li.user').nth(1).textContent()).toContain('What is my deductible?');
    const followUp = model.chatBodies().slice(before).find((body) => !body.tools?.length);
    expect(textOf(lastUser(followUp!)?.content)).toContain('What is my deductible?');
    expect(followUp?.messages.some((message) => message.role === 'assistant' && textOf(message.content).startsWith('Yes: annual eye exams'))).toBe(true);
    await shot('rag-followup');
  });

  it('is readable at phone width (no sideways scrolling)', async () => {
    model.responder = ragResponder;
    await page.setViewportSize({ width: 390, height: 844 });
    await open(app.baseUrl, 'rag');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await until(() => page.locator('#rag-log .followups button').count()).toBe(2);
    await shot('phone-rag');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.getByRole('tab', { name: 'Documents' }).click();
    await until(() => page.locator('#doc-list tr').count()).toBeGreaterThan(1);
    await shot('phone-documents');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  });

  it('documents: an upload shows its progress and appears in the list; delete removes it', async () => {
    await open(app.baseUrl, 'docs');
    await until(() => page.locator('#doc-list').textContent()).toContain('kestrel-health-select.pdf');
    const notes = `# Playground notes\n\nThe playground uploads this file. ${'Lorem ipsum dolor sit amet. '.repeat(80)}`;
    await page.locator('#doc-files').setInputFiles({ name: 'playground-notes.md', mimeType: 'text/markdown', buffer: Buffer.from(notes) });
    await page.getByRole('button', { name: 'Upload' }).click();
    await until(() => page.locator('#doc-progress').textContent()).toMatch(/indexed: 1 page\(s\), \d+ chunk\(s\)/);
    expect(await page.locator('#doc-progress progress').evaluate((bar: HTMLProgressElement) => bar.value)).toBe(1);
    const row = page.locator('#doc-list tr', { hasText: 'playground-notes.md' });
    await until(() => row.count()).toBe(1);
    await shot('documents-uploaded');
    const listed = (await (await fetch(`${app.baseUrl}/documents`)).json()) as { name: string }[];
    expect(listed.map((doc) => doc.name)).toContain('playground-notes.md');
    await row.getByRole('button', { name: 'Delete playground-notes.md' }).click();
    await until(() => row.count()).toBe(0);
    const after = (await (await fetch(`${app.baseUrl}/documents`)).json()) as { name: string }[];
    expect(after.map((doc) => doc.name)).not.toContain('playground-notes.md');
  });

  it('an upload the app refuses shows its error message', async () => {
    await open(app.baseUrl, 'docs');
    await page.locator('#doc-files').setInputFiles({ name: 'picture.gif', mimeType: 'image/gif', buffer: Buffer.from('GIF89a') });
    await page.getByRole('button', { name: 'Upload' }).click();
    await until(() => page.locator('#panel-docs .error').textContent()).toContain('415 unsupported_media_type');
    await shot('documents-refused');
  });

  it('away from localhost it asks once for the function key and sends it as x-functions-key', async () => {
    const remote = app.baseUrl.replace('localhost', REMOTE_HOST).replace('127.0.0.1', REMOTE_HOST);
    const keys: (string | undefined)[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith('/api/') && !request.url().includes('/api/playground')) keys.push(request.headers()['x-functions-key']);
    });
    await page.goto(`${remote}/playground`);
    await page.waitForSelector('#key-dialog[open]');
    await shot('function-key-dialog');
    await page.locator('#key-input').fill('the-function-key');
    await page.locator('#key-input').press('Enter');
    await until(() => page.locator('#status').textContent()).toContain('model openai test-model');
    await page.locator('#ask-prompt').fill('With a key');
    await page.getByRole('button', { name: 'Ask' }).click();
    await until(() => page.locator('#ask-answer').textContent()).toBe('Echo: With a key');
    expect(await page.locator('#key-dialog').evaluate((dialog: HTMLDialogElement) => dialog.open)).toBe(false);
    expect(keys.length).toBeGreaterThanOrEqual(2);
    expect(new Set(keys)).toEqual(new Set(['the-function-key']));
  });
});

describe('GET /api/playground without a model', () => {
  let bare: RunningApp;
  beforeAll(async () => {
    bare = await startApp();
  }, 60_000);
  afterAll(async () => {
    await bare?.stop();
  });

  it('shows the model_not_configured error with its message', async () => {
    await open(bare.baseUrl);
    await until(() => page.locator('#status').textContent()).toContain('no model configured');
    await page.getByRole('button', { name: 'Ask' }).click();
    const error = page.locator('#panel-ask .error');
    await until(() => error.textContent()).toContain('503 model_not_configured');
    expect(await error.textContent()).toContain('OPENAI_API_KEY');
    expect(await error.isVisible()).toBe(true);
    // The waiting notice goes once the request has failed (it used to stay beside the error).
    expect(await page.locator('#ask-meta').textContent()).toBe('');
    await shot('error-model-not-configured');
  });
});
