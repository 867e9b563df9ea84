// Chat with your data as small steps, one module each: plan (choices refused before any model call) →
// rewrite (the conversation as a search query) → retrieve → answer (from the sources only, then citations
// and follow-ups), with window (the prompt within the context) and thoughts (what the client is shown).
// This module is the entry point routes and skills import.

export { chatWithData, chatWithDataStream } from './answer.js';
export { planRetrieval, type RagDependencies, type RagPlan, type RagSettings, type RetrievalMode } from './plan.js';
export { retrieve } from './retrieve.js';
export type { Thought } from './thoughts.js';
