// Fixed size limits of API.md, in one place (the configurable ones are settings: src/config.ts). A message is
// anything a client stores or sends as conversation (chat messages, instructions, tool outputs, RAG history);
// a prompt is one-shot text (ask, the RAG question and prompt template).
export const MAX_MESSAGE_CHARS = 100_000;
export const MAX_PROMPT_CHARS = 32_000;
