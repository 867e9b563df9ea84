// The P4 baseline: a bare node:http pass-through to the fake model, in its own process like the app.
// Usage: node pass-through.mjs <model base url>; prints "listening <port>".
import { Agent, createServer, request } from 'node:http';

const target = new URL(`${process.argv[2]}/chat/completions`);
const agent = new Agent({ keepAlive: true });
const server = createServer({ noDelay: true }, (req, res) => {
  const upstream = request(target, { method: 'POST', headers: { 'content-type': 'application/json' }, agent }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, { 'content-type': answer.headers['content-type'] ?? 'application/json' });
    answer.pipe(res);
  });
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
});
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
