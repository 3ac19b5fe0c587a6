import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import { createSecureContext, type TLSSocket } from 'node:tls';

/** The certificate chain and key of STARTTLS, as PEM files (MXPOST_TLS_CERT, MXPOST_TLS_KEY). */
export interface TlsFiles {
  readonly certPath: string;
  readonly keyPath: string;
}

/** What the payload's envelope records of a session's TLS. */
export interface TlsDetails {
  /** The negotiated protocol, e.g. `TLSv1.3`. */
  readonly protocol: string;
  /** The cipher suite's IANA name, e.g. `TLS_AES_256_GCM_SHA384`. */
  readonly cipher: string;
}

// TLS 1.0 and 1.1 are deprecated (RFC 8996). smtp-server's own default is TLSv1
// "because of old clients"; an MX falls back to plaintext with those instead,
// which is what opportunistic STARTTLS means.
export const TLS_MIN_VERSION = 'TLSv1.2';

// cert-manager and Kubernetes replace a Secret's files by swapping a symlink,
// which fs.watch does not report reliably; polling stat() does. Two stats a
// second cost nothing.
const POLL_MS = 1000;

/** Reads both files and checks that they make a usable pair; throws naming the problem. */
export function loadTlsFiles(files: TlsFiles): { key: Buffer; cert: Buffer } {
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`cannot read the TLS ${what} ${path}: ${(err as Error).message}`);
    }
  };
  const cert = read(files.certPath, 'certificate');
  const key = read(files.keyPath, 'key');
  try {
    createSecureContext({ cert, key, minVersion: TLS_MIN_VERSION });
  } catch (err) {
    throw new Error(`the TLS certificate ${files.certPath} and key ${files.keyPath} do not make a usable pair: ${(err as Error).message}`);
  }
  return { key, cert };
}

/**
 * Calls `apply` with the new pair whenever either file changes. A pair that does
 * not load (the certificate written, the key not yet) is reported and skipped:
 * the one in force stays until the next change makes a good pair.
 */
export function watchTlsFiles(files: TlsFiles, handlers: { apply(pair: { key: Buffer; cert: Buffer }): void; failed(err: Error): void }) {
  const onChange = (current: Stats, previous: Stats) => {
    if (current.mtimeMs === previous.mtimeMs && current.ino === previous.ino && current.size === previous.size) return;
    let pair;
    try {
      pair = loadTlsFiles(files);
    } catch (err) {
      return handlers.failed(err as Error);
    }
    handlers.apply(pair);
  };
  for (const path of [files.certPath, files.keyPath]) watchFile(path, { interval: POLL_MS, persistent: false }, onChange);
  return {
    close() {
      for (const path of [files.certPath, files.keyPath]) unwatchFile(path, onChange);
    },
  };
}

export function tlsDetails(socket: TLSSocket): TlsDetails {
  const cipher = socket.getCipher();
  return { protocol: socket.getProtocol() ?? 'unknown', cipher: cipher?.standardName ?? cipher?.name ?? 'unknown' };
}
