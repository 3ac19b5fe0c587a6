// The "straightforward" reference: smtp-server with simpleParser and
// mailauth's authenticate() in onData, one after the other, and no queue.
// Usage: node bench/servers/naive.ts PORT DNS_HOST:DNS_PORT
import { Resolver } from 'node:dns/promises';
import { authenticate } from 'mailauth';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

const dns = new Resolver({ timeout: 2000, tries: 2 });
dns.setServers([process.argv[3]!]);
const resolver = (name: string, type: string) => dns.resolve(name, type as 'TXT');

const server = new SMTPServer({
  banner: 'naive smtp-server',
  size: 25 * 1024 * 1024,
  disabledCommands: ['AUTH', 'STARTTLS'],
  authOptional: true,
  logger: false,
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', async () => {
      try {
        const raw = Buffer.concat(chunks);
        const mailFrom = session.envelope.mailFrom;
        await authenticate(raw, {
          ip: session.remoteAddress,
          helo: session.hostNameAppearsAs,
          sender: mailFrom === false ? '' : mailFrom.address,
          mta: 'naive.bench.test',
          resolver: resolver as never,
        });
        await simpleParser(raw);
        callback(null, 'Ok: parsed and discarded');
      } catch (err) {
        callback(err as Error);
      }
    });
  },
});
server.on('error', (err) => process.stderr.write(`naive smtp-server: ${err.message}\n`));
server.listen(Number(process.argv[2]), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
