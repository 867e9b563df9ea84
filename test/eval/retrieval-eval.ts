// Retrieval evaluation through POST /api/chat, the path a user's question takes. The app runs on the local
// host with the sample corpus (data/) ingested, against the test model server: its query rewrite answers
// without a tool call (a model without tool support, so the rewrite falls back), and its embeddings are
// the deterministic hashed bag of words of test/support/fake-model.ts, so hybrid is reproducible.
// Prints recall@1, recall@5 and MRR per mode and question set, and how often unanswerable questions still
// get sources that score like real answers. EVAL_VERBOSE=1 lists the misses.
//
// Hashed vectors know no synonyms, so hybrid figures against the test server measure only the fusion. To
// measure with real embeddings (and a real query rewrite), point the eval at any OpenAI-compatible server:
//   EVAL_MODEL_URL=http://localhost:11434/v1 EVAL_CHAT_MODEL=llama3.2 EVAL_EMBEDDING_MODEL=nomic-embed-text npm run eval
// (EVAL_API_KEY for a server that wants a key).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, it } from 'vitest';
import { repoRoot, startApp, waitForSampleCorpus, type RunningApp } from '../support/app.js';
import { startFakeModel, type FakeModel } from '../support/fake-model.js';

interface QuestionSet {
  single: { question: string; expect: string[] }[];
  followups: { turns: string[]; expect: string[] }[];
  unanswerable: string[];
}

const questions = JSON.parse(readFileSync(path.join(repoRoot, 'test/eval/questions.json'), 'utf8')) as QuestionSet;
const TOP = 5;
const modes = ['text', 'hybrid'] as const;
type Mode = (typeof modes)[number];

let model: FakeModel;
let app: RunningApp;

const realModel = process.env.EVAL_MODEL_URL;

beforeAll(async () => {
  if (realModel == null) {
    model = await startFakeModel();
    // No tool call and no usable text: the rewrite falls back, as with a model that has no tool support.
    model.responder = (body) => (body.tools?.length ? { content: '0' } : { content: 'ok' });
  }
  app = await startApp({
    OPENAI_BASE_URL: realModel ?? model.url,
    OPENAI_API_KEY: process.env.EVAL_API_KEY,
    CHAT_MODEL_DEPLOYMENT_NAME: realModel == null ? 'eval-chat' : (process.env.EVAL_CHAT_MODEL ?? 'llama3.2'),
    EMBEDDING_MODEL_DEPLOYMENT_NAME: realModel == null ? 'eval-embedding' : (process.env.EVAL_EMBEDDING_MODEL ?? 'nomic-embed-text'),
    INGEST_SAMPLE_DATA: 'true',
  });
  console.log(`model: ${realModel ?? 'the test model server (hashed embeddings, rewrite falls back)'}`);
  await waitForSampleCorpus(app, 120_000);
});

afterAll(async () => {
  await app?.stop();
  await model?.stop();
});

interface Retrieved {
  pages: string[];
  topScore: number | undefined;
  query: string;
}

async function retrieve(messages: { role: string; content: string }[], mode: Mode): Promise<Retrieved> {
  const response = await fetch(`${app.baseUrl}/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages, context: { overrides: { retrieval_mode: mode, top: TOP } } }),
  });
  if (response.status !== 200) throw new Error(`POST /api/chat answered ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as { context: { data_points: { citations: string[] }; thoughts: { description: unknown }[] } };
  const results = body.context.thoughts[2]?.description;
  const topScore = Array.isArray(results) && results.length > 0 ? Number((results[0] as { score: number }).score) : undefined;
  return { pages: body.context.data_points.citations, topScore, query: String(body.context.thoughts[1]?.description ?? '') };
}

interface Scores {
  recall1: number;
  recall5: number;
  mrr: number;
  misses: string[];
  topScoresWhenRight: number[];
}

function score(results: { label: string; expect: string[]; got: Retrieved }[]): Scores {
  let hits1 = 0;
  let hits5 = 0;
  let reciprocal = 0;
  const misses: string[] = [];
  const topScoresWhenRight: number[] = [];
  for (const { label, expect, got } of results) {
    const rank = got.pages.findIndex((page) => expect.includes(page));
    if (rank === 0) {
      hits1 += 1;
      if (got.topScore != null) topScoresWhenRight.push(got.topScore);
    }
    if (rank >= 0 && rank < TOP) hits5 += 1;
    if (rank >= 0) reciprocal += 1 / (rank + 1);
    if (rank < 0 || rank >= TOP) misses.push(`${label} → [${got.pages.join(', ')}] (query: ${got.query}; expected ${expect.join(' | ')})`);
  }
  const n = results.length;
  return { recall1: hits1 / n, recall5: hits5 / n, mrr: reciprocal / n, misses, topScoresWhenRight };
}

const percent = (value: number) => `${(value * 100).toFixed(1)}%`;

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * (sorted.length - 1))))] ?? Number.POSITIVE_INFINITY;
}

it('measures retrieval over the sample corpus', async () => {
  const lines: string[] = [];
  const verbose = process.env.EVAL_VERBOSE === '1';
  lines.push(
    `retrieval eval: ${questions.single.length} single questions, ${questions.followups.length} two-turn follow-ups, ${questions.unanswerable.length} unanswerable; top ${TOP}, rewrite falls back (no tool call)`,
  );
  lines.push('mode    set          recall@1  recall@5  MRR');
  const misses: string[] = [];
  for (const mode of modes) {
    const single = [];
    for (const item of questions.single) single.push({ label: item.question, expect: item.expect, got: await retrieve([{ role: 'user', content: item.question }], mode) });
    const followups = [];
    for (const item of questions.followups) {
      const [first, second] = item.turns as [string, string];
      const messages = [
        { role: 'user', content: first },
        { role: 'assistant', content: 'Here is what the documents say about that.' },
        { role: 'user', content: second },
      ];
      followups.push({ label: item.turns.join(' / '), expect: item.expect, got: await retrieve(messages, mode) });
    }
    const singleScores = score(single);
    const followupScores = score(followups);
    for (const [name, scores] of [['single', singleScores], ['follow-ups', followupScores]] as const) {
      lines.push(`${mode.padEnd(8)}${name.padEnd(13)}${percent(scores.recall1).padStart(8)}  ${percent(scores.recall5).padStart(8)}  ${scores.mrr.toFixed(3)}`);
      misses.push(...scores.misses.map((miss) => `${mode} ${name}: ${miss}`));
    }
    // "High-scoring": at least the lower quartile of the top score of answerable questions answered at rank 1.
    const threshold = quantile([...singleScores.topScoresWhenRight, ...followupScores.topScoresWhenRight], 0.25);
    let withSources = 0;
    let highScoring = 0;
    for (const question of questions.unanswerable) {
      const got = await retrieve([{ role: 'user', content: question }], mode);
      if (got.pages.length > 0) withSources += 1;
      if (got.topScore != null && got.topScore >= threshold) highScoring += 1;
    }
    lines.push(
      `${mode.padEnd(8)}unanswerable: ${withSources}/${questions.unanswerable.length} got sources, ${highScoring}/${questions.unanswerable.length} a top score ≥ ${threshold.toPrecision(3)} (lower quartile of right top-1 scores)`,
    );
  }
  console.log(`\n${lines.join('\n')}\n`);
  if (verbose) console.log(`misses:\n${misses.join('\n')}\n`);
});
