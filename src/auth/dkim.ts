import { createRequire } from 'node:module';
import type { DKIMVerifyOptions, DKIMVerifyResult, DNSResolver } from 'mailauth';

/**
 * DKIM verification as mailauth's `dkimVerify` does it, with one difference:
 * a key record is parsed once per process, not once per message. mailauth
 * keeps its parsed keys for one message only (`createKeyCache` in its
 * lib/tools.js), and parsing one (Joi-validating the base64, createPublicKey,
 * exporting it to PEM) cost about 5 % of the receiver's CPU per message, for
 * the same few records over and over.
 *
 * The DNS lookup still happens for every message (through the resolver, whose
 * cache honours the record's TTL); only the parse of a record text already
 * seen is skipped, so a changed or revoked key takes effect as soon as DNS
 * says so. The internals used here (mailauth's DkimVerifier and its
 * `keyCache` property, which ARC validation reuses) are of the pinned mailauth
 * version; the DKIM and ARC tests of test/auth pin the behaviour.
 */

/** What mailauth's getPublicKey gives for a key record. */
interface PublicKeyResult {
  readonly publicKey: string;
  readonly rr: string;
  readonly modulusLength?: number;
  readonly keyType: string;
  readonly flags: readonly string[];
  readonly testing: boolean;
  readonly warnings: readonly string[];
}

interface KeyOptions {
  readonly strict?: boolean;
  readonly hashAlgo?: string;
}

/** mailauth's per-message key cache, as DkimVerifier and arc() call it. */
interface KeyCache {
  readonly resolver: DNSResolver;
  get(type: string, name: string, minBitLength: number | undefined, options?: KeyOptions): Promise<PublicKeyResult>;
}

interface Verifier extends NodeJS.WritableStream {
  keyCache: KeyCache;
  readonly arc: object;
  readonly headers?: unknown;
  readonly seal?: unknown;
  readonly headerFrom: DKIMVerifyResult['headerFrom'];
  readonly fromFields: number;
  readonly envelopeFrom: DKIMVerifyResult['envelopeFrom'];
  readonly results: DKIMVerifyResult['results'];
}

const require = createRequire(import.meta.url);
const { DkimVerifier } = require('mailauth/lib/dkim/dkim-verifier.js') as { DkimVerifier: new (options: DKIMVerifyOptions) => Verifier };
const tools = require('mailauth/lib/tools.js') as {
  getPublicKey(type: string, name: string, minBitLength: number | undefined, resolver: DNSResolver, options: KeyOptions): Promise<PublicKeyResult>;
  toALabel(name: string): string;
  writeToStream(stream: NodeJS.WritableStream, input: Buffer): Promise<void>;
};

/** Parsed key records kept at once: a few senders' keys are most of the mail. */
export const PARSED_KEYS_LIMIT = 1000;

export type DkimVerify = (input: Buffer, options: DKIMVerifyOptions & { resolver: DNSResolver }) => Promise<DKIMVerifyResult>;

/** A DKIM verifier whose parsed key records outlive the message, bounded to `limit`, least recently used out first. */
export function createDkimVerifier(limit = PARSED_KEYS_LIMIT): DkimVerify {
  const parsed = new Map<string, PublicKeyResult>();

  const keyCacheFor = (resolver: DNSResolver): KeyCache => {
    // One lookup per question and message, as mailauth's own cache: the
    // DKIM-Signatures and ARC sets that name one key share it.
    const lookups = new Map<string, Promise<PublicKeyResult>>();
    return {
      resolver,
      get(type, name, minBitLength, options = {}) {
        const question = [type, !!options.strict, minBitLength ?? '', options.hashAlgo ?? '', name].join(':');
        let lookup = lookups.get(question);
        if (!lookup) {
          lookup = (async () => {
            const records = await resolver(tools.toALabel(name), 'TXT');
            // Everything the parse depends on: the question and the record text.
            const key = `${question}\0${JSON.stringify(records)}`;
            const known = parsed.get(key);
            if (known) {
              parsed.delete(key);
              parsed.set(key, known);
              return known;
            }
            // Failures are not kept: mailauth writes onto its errors.
            const result = freeze(await tools.getPublicKey(type, name, minBitLength, async () => records, options));
            parsed.set(key, result);
            if (parsed.size > limit) parsed.delete(parsed.keys().next().value!);
            return result;
          })();
          // A prefetched lookup can fail before anything waits for it.
          lookup.catch(() => false);
          lookups.set(question, lookup);
        }
        return lookup;
      },
    };
  };

  return async function verify(input, options) {
    const verifier = new DkimVerifier(options);
    const keys = keyCacheFor(options.resolver);
    verifier.keyCache = keys;
    // ARC validation (arc() in authenticate.ts) takes the key cache from here.
    Object.defineProperty(verifier.arc, 'keyCache', { value: keys, enumerable: false, configurable: true, writable: true });
    await tools.writeToStream(verifier, input);
    // The shape of mailauth's dkimVerify result, its hidden properties included.
    const result = { headerFrom: verifier.headerFrom, fromFields: verifier.fromFields, envelopeFrom: verifier.envelopeFrom, results: verifier.results };
    for (const name of ['headers', 'arc', 'seal'] as const) {
      if (verifier[name]) Object.defineProperty(result, name, { enumerable: false, configurable: false, writable: false, value: verifier[name] });
    }
    return result as DKIMVerifyResult;
  };
}

/** Shared between messages, so read-only: mailauth copies from it and never writes to it. */
function freeze(result: PublicKeyResult): PublicKeyResult {
  Object.freeze(result.flags);
  Object.freeze(result.warnings);
  return Object.freeze(result);
}
