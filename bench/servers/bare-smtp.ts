// The floor of a Node SMTP server: smtp-server, set up as mxpost sets it up,
// accepting every recipient and discarding every message as it streams in.
// Usage: node bench/servers/bare-smtp.ts PORT
import { SMTPServer } from 'smtp-server';

const server = new SMTPServer({
  banner: 'bare smtp-server',
  size: 25 * 1024 * 1024,
  disabledCommands: ['AUTH', 'STARTTLS'],
  authOptional: true,
  logger: false,
  onData(stream, _session, callback) {
    stream.on('end', () => callback(null, 'Ok: discarded'));
    stream.resume();
  },
});
server.on('error', (err) => process.stderr.write(`bare smtp-server: ${err.message}\n`));
server.listen(Number(process.argv[2]), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
