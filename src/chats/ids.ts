import { z } from 'zod';

/**
 * API.md: a chat id is 1..128 characters that are safe as a Table key and can never break an OData filter.
 * `.` and `..` match the character set but not a URL: hosts normalise them away (/chats/.. is /), so such a
 * chat could be created by a client that skips normalisation and never be reached again.
 */
export const chatIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_\-.:@]{1,128}$/, 'must be 1-128 characters from A-Z a-z 0-9 _ - . : @')
  .refine((id) => id !== '.' && id !== '..', 'must not be "." or ".." (URLs normalise them away)');
