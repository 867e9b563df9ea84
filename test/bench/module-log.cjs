// Preload for the P10 row (cold first response): records when each package (and the app's own heavy
// modules) is first loaded and how long its outermost `require` took, inclusive of what it loaded itself.
// `--require ./test/bench/module-log.cjs`; the app prints one `[module-load] {...}` line per module after
// the event, so the row can tell which modules a route's first request loaded.
const Module = require('node:module');
const path = require('node:path');

const load = Module._load;
const seen = new Set();
let depth = 0;

/** "openai", "@azure/data-tables", "gpt-tokenizer/encoding/o200k_base"… or undefined for the rest. */
function packageOf(request, parent) {
  if (request.startsWith('node:') || Module.builtinModules.includes(request)) return undefined;
  if (!request.startsWith('.') && !path.isAbsolute(request)) {
    const parts = request.split('/');
    const name = request.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
    // The tokenizer's encoding files are the expensive part of gpt-tokenizer: keep them apart.
    if (name === 'gpt-tokenizer' && /encoding|bpeRanks/.test(request)) return request;
    return name;
  }
  return undefined;
}

Module._load = function (request, parent, isMain) {
  const name = packageOf(request, parent);
  // Only the outermost load of a package counts, and only once: later requires are cache hits.
  const outer = name != null && !seen.has(name) && !(parent?.filename ?? '').includes(`node_modules${path.sep}${name}${path.sep}`);
  if (!outer) return Reflect.apply(load, this, [request, parent, isMain]);
  seen.add(name);
  const start = performance.now();
  depth += 1;
  try {
    return Reflect.apply(load, this, [request, parent, isMain]);
  } finally {
    depth -= 1;
    const entry = { name, at: Math.round(start * 10) / 10, ms: Math.round((performance.now() - start) * 10) / 10, depth };
    process.stderr.write(`[module-load] ${JSON.stringify(entry)}\n`);
  }
};
