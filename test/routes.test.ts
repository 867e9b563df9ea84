import { describe, expect, it } from 'vitest';
import { compileRoute, matchRoutes } from '../src/http/route-template.js';

const routes = ['ask', 'whois/{name}', 'chats/{chatId}', 'content/{*path}', 'documents', 'documents/{name}', 'items/{id:int}/{tail?}'].map(
  (template) => compileRoute(template, template),
);
const best = (path: string) => {
  const [match] = matchRoutes(routes, path);
  return match == null ? undefined : { route: match.route.value, params: match.params };
};

describe('route templates', () => {
  it('matches literals case-insensitively and ignores a trailing slash', () => {
    expect(best('ask')?.route).toBe('ask');
    expect(best('ASK/')?.route).toBe('ask');
    expect(best('asked')).toBeUndefined();
  });

  it('captures and decodes parameters, one segment each', () => {
    expect(best('whois/Ada%20Lovelace')).toEqual({ route: 'whois/{name}', params: { name: 'Ada Lovelace' } });
    expect(best('whois/a/b')).toBeUndefined();
    // ASP.NET Core leaves %2F encoded in route values; the local host matches Azure.
    expect(best('chats/a%2Fb')).toEqual({ route: 'chats/{chatId}', params: { chatId: 'a%2Fb' } });
    expect(best('chats/a%2fb%20c')).toEqual({ route: 'chats/{chatId}', params: { chatId: 'a%2Fb c' } });
  });

  it('lets a catch-all take the rest of the path', () => {
    expect(best('content/folder/benefits.pdf')).toEqual({ route: 'content/{*path}', params: { path: 'folder/benefits.pdf' } });
  });

  it('prefers literal routes over parameterized ones', () => {
    expect(best('documents')?.route).toBe('documents');
    expect(best('documents/x.pdf')?.params).toEqual({ name: 'x.pdf' });
  });

  it('handles constraints and optional segments', () => {
    expect(best('items/5')?.params).toEqual({ id: '5' });
    expect(best('items/5/more')?.params).toEqual({ id: '5', tail: 'more' });
  });

  it('throws on broken percent-encoding so the host can answer 400', () => {
    expect(() => matchRoutes(routes, 'whois/%E0%A4%A')).toThrow();
  });
});
