import type { HttpHandler, HttpMethod } from '@azure/functions';

// `@azure/functions` talks to its host through the module `@azure/functions-core`, which only the real
// worker provides (it intercepts `require`). The local host provides a minimal one the same way, so the
// app's own `app.http(...)` calls register with us exactly as they would with Azure.

export interface HttpRegistration {
  name: string;
  methods: HttpMethod[];
  route: string;
  authLevel: string;
  handler: HttpHandler;
}

interface BindingInfo {
  type?: string;
  direction?: string;
  route?: string;
  methods?: HttpMethod[];
  authLevel?: string;
}

type Loader = (request: string, parent: unknown, isMain: boolean) => unknown;
const Module = require('node:module') as { _load: Loader };

/** Installs the stand-in core module; every HTTP function registered afterwards lands in `registrations`. */
export function installFunctionsCore(registrations: HttpRegistration[]): void {
  const core = {
    setProgrammingModel: () => undefined,
    getProgrammingModel: () => undefined,
    registerHook: () => ({ dispose: () => undefined }),
    log: () => undefined,
    registerFunction(metadata: { name: string; bindings: Record<string, BindingInfo> }, handler: HttpHandler) {
      const trigger = Object.values(metadata.bindings).find((binding) => binding.type === 'httpTrigger');
      // Timers are not run locally (their work must also happen some other way, e.g. on the next request).
      if (trigger == null && Object.values(metadata.bindings).some((binding) => binding.type === 'timerTrigger')) return { dispose: () => undefined };
      if (trigger == null) {
        console.warn(`Skipping function "${metadata.name}": the local host serves HTTP triggers only.`);
        return { dispose: () => undefined };
      }
      registrations.push({
        name: metadata.name,
        methods: trigger.methods ?? ['GET', 'POST'],
        route: trigger.route ?? metadata.name,
        authLevel: trigger.authLevel ?? 'function',
        handler,
      });
      return { dispose: () => undefined };
    },
  };
  const load = Module._load;
  Module._load = (request, parent, isMain) => {
    if (request === '@azure/functions-core') return core;
    return Reflect.apply(load, Module, [request, parent, isMain]);
  };
}
