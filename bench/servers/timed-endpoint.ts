// The webhook endpoint of the acceptance bench: answers 204 at once, in its own
// process (it must not share the event loop with what is measured), and notes
// when each delivery's request arrived, by its webhook-id, on the monotonic
// clock that every process of the machine shares (process.hrtime).
// Run with child_process.fork: it sends { port } once listening, answers
// { cmd: 'report' } with the arrivals so far and { cmd: 'reset' } by forgetting them.
import { createServer } from 'node:http';

let arrivals = new Map<string, bigint>();
let requests = 0;
const server = createServer((req, res) => {
  const at = process.hrtime.bigint();
  const id = req.headers['webhook-id'];
  requests++;
  // A retry of the same delivery keeps its first arrival: latency is to the first POST.
  if (typeof id === 'string' && !arrivals.has(id)) arrivals.set(id, at);
  req.resume();
  req.on('end', () => res.writeHead(204).end());
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send!({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('message', (message: { cmd: string }) => {
  if (message.cmd === 'reset') {
    arrivals = new Map();
    requests = 0;
    process.send!({ reset: true });
  } else if (message.cmd === 'report') {
    process.send!({ requests, arrivals: [...arrivals].map(([id, at]) => [id, String(at)]) });
  }
});
process.on('disconnect', () => process.exit(0));
