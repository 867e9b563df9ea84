// P6 and P7: ingestion throughput and local search latency, measured with the app's own modules.
import { NotBuilt } from './env.js';
import type { Row } from './row.js';

export const p6Pages: Row = {
  id: 'P6 pages',
  what: 'ingestion: PDF pages/s, parse + split (no embeddings)',
  target: '≥ 100 pages/s',
  async measure() {
    throw new NotBuilt();
  },
};

export const p6Batch: Row = {
  id: 'P6 batch',
  what: 'ingestion: chunks per embeddings request',
  target: '≥ 16',
  needs: ['POST documents'],
  async measure() {
    throw new NotBuilt();
  },
};

export const p7: Row = {
  id: 'P7',
  what: 'local search p95 at 10k chunks',
  target: '≤ 20 ms',
  async measure() {
    throw new NotBuilt();
  },
};
