// The sample skill set, after the OpenAI extension's todo assistant: a todo list per chat, in Table Storage
// (partition = chat id, row = todo id). Each call is one storage request.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { storageStatus, translateStorageError } from '../errors/storage.js';
import { tablesSdk } from '../storage/clients.js';
import { defineSkill, type SkillContext } from './types.js';

interface TodoRow {
  partitionKey: string;
  rowKey: string;
  title: string;
  done: boolean;
  createdAt: string;
}

/**
 * A todo's id comes from the tool call that created it, so running the same call twice (a retried turn
 * after a crash) adds the item once. Short, because the model repeats it back in todo_complete.
 */
function todoId(chatId: string, callId: string): string {
  return createHash('sha256').update(`${chatId}\n${callId}`).digest('hex').slice(0, 10);
}

async function stored<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error: unknown) {
    throw translateStorageError(error);
  }
}

export const todoAdd = defineSkill({
  name: 'todo_add',
  description: 'Add an item to this chat\'s todo list. Returns the new item with its id.',
  parameters: z.object({ title: z.string().trim().min(1).max(500).describe('What needs doing, e.g. "Buy milk"') }),
  async run({ title }, context) {
    const table = await context.services.todoTable();
    const row: TodoRow = { partitionKey: context.chatId, rowKey: todoId(context.chatId, context.callId), title, done: false, createdAt: new Date().toISOString() };
    try {
      await table.createEntity(row, { abortSignal: context.signal });
    } catch (error: unknown) {
      // 409: this very call ran before and its item exists; adding it again would duplicate it.
      if (storageStatus(error) !== 409) throw translateStorageError(error);
    }
    return { content: JSON.stringify({ added: { id: row.rowKey, title, done: false } }) };
  },
});

const todoEntity = z.object({ rowKey: z.string(), title: z.string(), done: z.boolean().catch(false), createdAt: z.string().catch('') });

/** Every todo of a chat, oldest first. */
export async function listTodos(context: Pick<SkillContext, 'chatId' | 'services'> & { signal?: AbortSignal }): Promise<{ id: string; title: string; done: boolean }[]> {
  const table = await context.services.todoTable();
  const { odata } = tablesSdk();
  const items: { id: string; title: string; done: boolean; createdAt: string }[] = [];
  await stored(async () => {
    for await (const entity of table.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${context.chatId}` }, abortSignal: context.signal })) {
      const row = todoEntity.safeParse(entity);
      if (row.success) items.push({ id: row.data.rowKey, title: row.data.title, done: row.data.done, createdAt: row.data.createdAt });
    }
  });
  return items.sort((a, b) => a.createdAt.localeCompare(b.createdAt)).map(({ id, title, done }) => ({ id, title, done }));
}

export const todoList = defineSkill({
  name: 'todo_list',
  description: 'List this chat\'s todo items with their ids and whether they are done.',
  parameters: z.object({ includeDone: z.boolean().optional().describe('Also list items already done (default true)') }),
  async run({ includeDone }, context) {
    const items = await listTodos(context);
    return { content: JSON.stringify({ todos: includeDone === false ? items.filter((item) => !item.done) : items }) };
  },
});

export const todoComplete = defineSkill({
  name: 'todo_complete',
  description: 'Mark one of this chat\'s todo items as done, by the id todo_add or todo_list returned.',
  parameters: z.object({ id: z.string().trim().min(1).max(64).describe('The item\'s id') }),
  async run({ id }, context) {
    const table = await context.services.todoTable();
    try {
      await table.updateEntity({ partitionKey: context.chatId, rowKey: id, done: true }, 'Merge', { etag: '*', abortSignal: context.signal });
    } catch (error: unknown) {
      if (storageStatus(error) === 404) return { content: JSON.stringify({ error: `No todo item has the id "${id}"; call todo_list for the ids.` }) };
      throw translateStorageError(error);
    }
    return { content: JSON.stringify({ completed: id }) };
  },
});
