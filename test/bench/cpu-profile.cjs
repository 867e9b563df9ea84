// Preload for profiling the app under the benchmark (--cpu-prof is not allowed in NODE_OPTIONS):
//   BENCH_APP_NODE_OPTIONS="--require ./test/bench/cpu-profile.cjs" BENCH_PROFILE_DIR=/tmp/prof npm run bench
// Writes <dir>/app-<pid>.cpuprofile when the process exits; open it in Chrome DevTools or VS Code.
const { Session } = require('node:inspector');
const { mkdirSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const dir = process.env.BENCH_PROFILE_DIR || require('node:os').tmpdir();
const session = new Session();
session.connect();
session.post('Profiler.enable', () => session.post('Profiler.start'));
const exit = process.exit;
process.exit = (code) => {
  session.post('Profiler.stop', (error, result) => {
    if (!error) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `app-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    }
    exit.call(process, code);
  });
};
