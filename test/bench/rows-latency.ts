// P1, P1b, P2, P3: latency the app adds on top of the model, per route, measured side by side.
import type { RecordedRequest } from '../support/fake-model.js';
import { CHAT_MODEL, type BenchEnv } from './env.js';
import { ok, type TimedResponse } from './http-client.js';
import type { Row } from './row.js';
import { cpuMsOf, median, ms, percentile, repeat } from './stats.js';

const PROMPT = 'Say hello in five words.';

const directModelCall = (env: BenchEnv) => () =>
  ok(`${env.model.url}/chat/completions`, {
    body: { model: CHAT_MODEL, messages: [{ role: 'user', content: PROMPT }], max_tokens: 1024 },
  });

/** Alternates a and b (warm-up first) so both see the same machine noise; returns durations in ms. */
async function sideBySide(
  a: () => Promise<TimedResponse>,
  b: () => Promise<TimedResponse>,
  warmUp: number,
  samples: number,
  /** The app's process: its CPU time per `b` call is reported too (steadier than wall time on a busy machine). */
  pid?: number,
): Promise<{ a: number[]; b: number[]; cpuMsPerB: number }> {
  await repeat(warmUp, async () => {
    await a();
    await b();
  });
  const cpuBefore = cpuMsOf(pid);
  const result = { a: [] as number[], b: [] as number[], cpuMsPerB: Number.NaN };
  await repeat(samples, async (i) => {
    // Swap the order every other sample so neither side always runs right after the other.
    const first = i % 2 === 0 ? a : b;
    const second = first === a ? b : a;
    const one = await first();
    const two = await second();
    result[first === a ? 'a' : 'b'].push(one.end - one.start);
    result[second === a ? 'a' : 'b'].push(two.end - two.start);
  });
  const cpuAfter = cpuMsOf(pid);
  if (cpuBefore != null && cpuAfter != null) result.cpuMsPerB = (cpuAfter - cpuBefore) / samples;
  return result;
}

function addedLatency(times: { a: number[]; b: number[]; cpuMsPerB: number }, limit: number, label: string) {
  const base = median(times.a);
  const withApp = median(times.b);
  const added = withApp - base;
  return {
    figure: `+${ms(added)} (${label} ${ms(withApp)} vs model ${ms(base)}, n=${times.b.length}; app CPU ${ms(times.cpuMsPerB)}/request)`,
    met: added <= limit,
    details: { addedMs: added, appP50Ms: withApp, modelP50Ms: base, appCpuMsPerRequest: times.cpuMsPerB, appP90Ms: percentile(times.b, 90), modelP90Ms: percentile(times.a, 90) },
  };
}

export const p1: Row = {
  id: 'P1',
  what: 'added latency, POST /api/ask vs model direct (p50)',
  target: '≤ 1.5 ms',
  needs: ['POST ask'],
  async measure(env) {
    const ask = () => ok(env.api('ask'), { body: { prompt: PROMPT } });
    return addedLatency(await sideBySide(directModelCall(env), ask, 50, 400, env.app.process.pid), 1.5, 'ask');
  },
};

const chatTurn = (url: string, message: string) => ok(url, { body: { message } });

export const p1b: Row = {
  id: 'P1b',
  what: 'added latency, chat turn POST /api/chats/{id} vs model direct (p50, Azurite loopback)',
  target: '≤ 5 ms',
  needs: ['PUT chats/{chatId}', 'POST chats/{chatId}'],
  async measure(env) {
    // A fresh chat every 5 turns keeps the history short: this row is about the app's cost, P2 about history.
    const warmUp = 20;
    const samples = 200;
    const urls: string[] = [];
    for (let i = 0; i < (warmUp + samples) / 5 + 1; i++) {
      urls.push(env.api(`chats/bench-p1b-${Date.now()}-${i}`));
      await ok(urls[i]!, { method: 'PUT', body: {} });
    }
    let turns = 0;
    const turn = () => chatTurn(urls[Math.floor(turns++ / 5)]!, PROMPT);
    return addedLatency(await sideBySide(directModelCall(env), turn, warmUp, samples, env.app.process.pid), 5, 'turn');
  },
};

/** About 100 tokens of text, different per call so nothing can be cached. */
const longMessage = (n: number) =>
  `Message ${n}: ` + 'the quarterly report lists revenue, costs and the plan for next year in some detail '.repeat(5);

export const p2: Row = {
  id: 'P2',
  what: 'chat turn at 1,000 vs 10 messages of history: time (p50) and storage requests per turn',
  target: '≤ 1.2×, ≤ 3 requests at both',
  needs: ['PUT chats/{chatId}', 'POST chats/{chatId}'],
  async measure(env) {
    const { proxy, api } = await env.counted();
    const stamp = Date.now();
    const samples = 30;
    const smallUrls: string[] = [];
    let n = 0;
    // `samples` chats of 10 messages (5 turns), so each measured turn really is at 10 messages.
    for (let chat = 0; chat <= samples; chat++) {
      const url = api(`chats/bench-p2-small-${stamp}-${chat}`);
      await ok(url, { method: 'PUT', body: {} });
      await repeat(5, () => chatTurn(url, longMessage(n++)).then(() => undefined));
      smallUrls.push(url);
    }
    const bigUrl = api(`chats/bench-p2-big-${stamp}`);
    await ok(bigUrl, { method: 'PUT', body: {} });
    await repeat(500, () => chatTurn(bigUrl, longMessage(n++)).then(() => undefined));

    const measureTurn = async (url: string) => {
      const before = proxy.count();
      const busyBefore = proxy.busyMs();
      const response = await chatTurn(url, longMessage(n++));
      return { ms: response.end - response.start, requests: proxy.count() - before, storageMs: proxy.busyMs() - busyBefore };
    };
    await measureTurn(smallUrls[samples]!); // warm-up
    await measureTurn(bigUrl);
    const small: { ms: number; requests: number; storageMs: number }[] = [];
    const big: { ms: number; requests: number; storageMs: number }[] = [];
    for (let i = 0; i < samples; i++) {
      small.push(await measureTurn(smallUrls[i]!));
      big.push(await measureTurn(bigUrl));
    }
    const smallMs = median(small.map((s) => s.ms));
    const bigMs = median(big.map((s) => s.ms));
    const ratio = bigMs / smallMs;
    const maxSmall = Math.max(...small.map((s) => s.requests));
    const maxBig = Math.max(...big.map((s) => s.requests));
    const medSmall = median(small.map((s) => s.requests));
    const medBig = median(big.map((s) => s.requests));
    return {
      figure:
        `${ratio.toFixed(2)}× (${ms(bigMs)} vs ${ms(smallMs)}); requests/turn ${medBig} at 1,000 (max ${maxBig}), ${medSmall} at 10 (max ${maxSmall}); ` +
        `storage p50 ${ms(median(big.map((s) => s.storageMs)))} vs ${ms(median(small.map((s) => s.storageMs)))} of the turn; ` +
        `${proxy.count()} storage requests over ${proxy.connections()} connection(s)`,
      met: ratio <= 1.2 && maxSmall <= 3 && maxBig <= 3,
      details: { storageConnections: proxy.connections(), storageRequests: proxy.count(), ratio, bigP50Ms: bigMs, smallP50Ms: smallMs, requestsBig: big.map((s) => s.requests), requestsSmall: small.map((s) => s.requests), samples },
    };
  },
};

type Format = 'sse' | 'ndjson';

const contentOf = (value: unknown, format: Format): string | undefined => {
  if (typeof value !== 'object' || value == null) return undefined;
  if (format === 'sse') return 'content' in value && typeof value.content === 'string' ? value.content : undefined;
  const delta = 'delta' in value ? value.delta : undefined;
  if (typeof delta !== 'object' || delta == null || !('content' in delta)) return undefined;
  return typeof delta.content === 'string' && delta.content !== '' ? delta.content : undefined;
};

/** When each content event arrived, and in which network chunk, from the body's chunks. */
function contentArrivals(response: TimedResponse, format: Format): { at: number; chunk: number }[] {
  const arrivals: { at: number; chunk: number }[] = [];
  const separator = format === 'sse' ? '\n\n' : '\n';
  let buffer = '';
  response.chunks.forEach((chunk, index) => {
    buffer += chunk.text;
    const frames = buffer.split(separator);
    buffer = frames.pop() ?? '';
    for (const frame of frames) {
      let json = frame;
      if (format === 'sse') {
        if (frame.split('\n').some((line) => line.startsWith('event:'))) continue;
        json = frame.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n');
      }
      if (json.trim() === '') continue;
      try {
        if (contentOf(JSON.parse(json), format) != null) arrivals.push({ at: chunk.at, chunk: index });
      } catch {
        // not JSON: not a content event
      }
    }
  });
  return arrivals;
}

const STREAMED_WORDS = 20;

async function firstTokenToFirstByte(env: BenchEnv, call: () => Promise<TimedResponse>, format: Format) {
  const { model } = env;
  const words = Array.from({ length: STREAMED_WORDS }, (_, i) => `word${i}`).join(' ');
  model.chunkDelayMs = 10;
  model.responder = () => ({ content: words });
  try {
    const firsts: number[] = [];
    const perChunk: number[] = [];
    let sent = 0;
    let separate = 0;
    const samples = 40;
    for (let i = -5; i < samples; i++) {
      const before = model.requests.length;
      const response = await call();
      const streamed = model.requests.slice(before).filter((r: RecordedRequest) => r.contentSentAt.length > 0).at(-1);
      if (streamed == null) throw new Error('the model saw no streamed request');
      if (i < 0) continue; // warm-up
      const arrivals = contentArrivals(response, format);
      const sentAt = streamed.contentSentAt;
      if (arrivals.length !== sentAt.length) throw new Error(`client saw ${arrivals.length} content events, model sent ${sentAt.length}`);
      firsts.push(arrivals[0]!.at - sentAt[0]!);
      arrivals.forEach((arrival, index) => perChunk.push(arrival.at - sentAt[index]!));
      sent += sentAt.length;
      separate += new Set(arrivals.map((arrival) => arrival.chunk)).size;
    }
    const p50 = median(firsts);
    return {
      figure: `${ms(p50)} (p90 ${ms(percentile(firsts, 90))}; every chunk p50 ${ms(median(perChunk))}); ${separate}/${sent} chunks arrived separately`,
      met: p50 <= 2 && separate === sent,
      details: { firstP50Ms: p50, firstP90Ms: percentile(firsts, 90), chunkP50Ms: median(perChunk), separate, sent, samples },
    };
  } finally {
    model.chunkDelayMs = 0;
    model.reset();
  }
}

export const p3Sse: Row = {
  id: 'P3 SSE',
  what: "model's first token → client's first byte, POST /api/ask (SSE), p50; chunks not coalesced",
  target: '≤ 2 ms, none coalesced',
  needs: ['POST ask'],
  measure: (env) =>
    firstTokenToFirstByte(env, () => ok(env.api('ask'), { body: { prompt: PROMPT }, headers: { accept: 'text/event-stream' } }), 'sse'),
};

export const p3Ndjson: Row = {
  id: 'P3 NDJSON',
  what: "model's first token → client's first byte, POST /api/chat/stream (NDJSON), p50; chunks not coalesced",
  target: '≤ 2 ms, none coalesced',
  needs: ['POST chat/stream'],
  measure: (env) =>
    firstTokenToFirstByte(env, () => ok(env.api('chat/stream'), { body: { messages: [{ role: 'user', content: PROMPT }] } }), 'ndjson'),
};
