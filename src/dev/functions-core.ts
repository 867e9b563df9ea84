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

/** What the app passed to `app.setup(...)`, seen by the local host as the worker would. */
export interface SetupOptions {
  enableHttpStream: boolean;
}

/**
 * Installs the stand-in core module; every HTTP function registered afterwards lands in `registrations`, and
 * `app.setup` options land in `setup` (the worker reads them the same way, through the programming model).
 */
export function installFunctionsCore(registrations: HttpRegistration[], setup: SetupOptions = { enableHttpStream: false }): void {
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
  let functionsModule: object | undefined;
  Module._load = (request, parent, isMain) => {
    if (request === '@azure/functions-core') return core;
    const loaded: unknown = Reflect.apply(load, Module, [request, parent, isMain]);
    if (request !== '@azure/functions' || typeof loaded !== 'object' || loaded == null) return loaded;
    // `app.setup` is an accessor on the package's `app` namespace: hand the app a view whose `setup` also
    // records the options, leaving the package itself untouched.
    functionsModule ??= watchSetup(loaded, setup);
    return functionsModule;
  };
}

function watchSetup(functions: object, setup: SetupOptions): object {
  const app: unknown = Reflect.get(functions, 'app');
  if (typeof app !== 'object' || app == null) return functions;
  const original: unknown = Reflect.get(app, 'setup');
  if (typeof original !== 'function') return functions;
  const recordingSetup = (options: { enableHttpStream?: boolean }) => {
    if (options.enableHttpStream != null) setup.enableHttpStream = options.enableHttpStream;
    return Reflect.apply(original, app, [options]);
  };
  const appView = new Proxy(app, { get: (target, key) => (key === 'setup' ? recordingSetup : Reflect.get(target, key)) });
  return new Proxy(functions, { get: (target, key) => (key === 'app' ? appView : Reflect.get(target, key)) });
}
