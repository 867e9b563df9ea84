import { HttpRequest } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { callerIdentity } from '../src/http/caller.js';

const principal = Buffer.from(JSON.stringify({ claims: [{ typ: 'groups', val: 'g1' }, { typ: 'name', val: 'x' }, { typ: 'groups', val: 'g2' }] })).toString('base64');
const request = (headers: Record<string, string>) => new HttpRequest({ method: 'GET', url: 'http://localhost/api/chat', headers });

describe('caller identity', () => {
  it('is read from the platform headers only when trusted', () => {
    const headers = { 'x-ms-client-principal-id': 'oid-1', 'x-ms-client-principal': principal };
    expect(callerIdentity(request(headers), true)).toEqual({ oid: 'oid-1', groups: ['g1', 'g2'] });
    expect(callerIdentity(request(headers), false)).toEqual({ groups: [] });
  });

  it('ignores a malformed principal header', () => {
    expect(callerIdentity(request({ 'x-ms-client-principal-id': 'oid-1', 'x-ms-client-principal': '%%%' }), true)).toEqual({ oid: 'oid-1', groups: [] });
  });
});
