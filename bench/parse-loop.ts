// CPU time of parseMessage alone on one message file, run many times on one
// event loop: `node bench/parse-loop.ts FILE [N]`. For quick before/after
// comparisons of a change to src/message.
import { readFileSync } from 'node:fs';
import { parseMessage } from '../src/message/parse.ts';

const [file, count = '300'] = process.argv.slice(2);
if (!file) throw new Error('usage: node bench/parse-loop.ts FILE [N]');
const raw = readFileSync(file);
const n = Number(count);
for (let i = 0; i < 50; i++) await parseMessage(raw);
const before = process.cpuUsage();
for (let i = 0; i < n; i++) await parseMessage(raw);
const used = process.cpuUsage(before);
process.stdout.write(`${file}: ${((used.user + used.system) / 1000 / n).toFixed(3)} ms CPU per parse (${n} parses)\n`);
