import type { TokenCredential } from '@azure/core-auth';

// One credential per client id for the whole process: DefaultAzureCredential caches tokens, and building
// it per request would fetch a token per request.
const credentials = new Map<string, Promise<TokenCredential>>();

/** Entra ID credential (managed identity in Azure, developer sign-in locally); `clientId` picks a user-assigned identity. */
export function azureCredential(clientId?: string): Promise<TokenCredential> {
  const key = clientId ?? '';
  let credential = credentials.get(key);
  if (credential == null) {
    // Required lazily: @azure/identity takes ~300 ms to load and keyless auth is only used in Azure.
    const { DefaultAzureCredential } = require('@azure/identity') as typeof import('@azure/identity');
    credential = Promise.resolve(new DefaultAzureCredential(clientId == null ? {} : { managedIdentityClientId: clientId }));
    credentials.set(key, credential);
  }
  return credential;
}
