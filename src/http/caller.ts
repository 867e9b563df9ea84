import type { HttpRequest } from '@azure/functions';

export interface Caller {
  /** Entra object id of the signed-in user. */
  oid?: string;
  groups: string[];
}

const anonymous: Caller = { groups: [] };

/**
 * The caller's identity, from the headers App Service authentication sets (and strips from clients).
 * Only trusted when `trusted` says the platform put them there: otherwise anyone could claim any user.
 * Never read identity from a request body.
 */
export function callerIdentity(request: HttpRequest, trusted: boolean): Caller {
  if (!trusted) return anonymous;
  const oid = request.headers.get('x-ms-client-principal-id')?.trim() || undefined;
  const groups: string[] = [];
  const encoded = request.headers.get('x-ms-client-principal');
  if (encoded != null) {
    try {
      const principal: unknown = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
      const claims = typeof principal === 'object' && principal != null && 'claims' in principal && Array.isArray(principal.claims) ? principal.claims : [];
      for (const claim of claims) {
        if (typeof claim === 'object' && claim != null && claim.typ === 'groups' && typeof claim.val === 'string') groups.push(claim.val);
      }
    } catch {
      // A malformed principal header grants nothing beyond the id header.
    }
  }
  return { ...(oid == null ? {} : { oid }), groups };
}
