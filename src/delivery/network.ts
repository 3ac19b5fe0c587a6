import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent, type Dispatcher } from 'undici';

/** Where an endpoint may be: what the operator allowed for its route. */
export interface AddressPolicy {
  /** Loopback and private ranges: in-cluster endpoints live there. */
  readonly allowPrivate: boolean;
  /** Link-local ranges, where cloud metadata services answer. */
  readonly allowLinkLocal: boolean;
}

/**
 * Where a route's endpoints may be: its own `allowPrivate` or else
 * MXPOST_ALLOW_PRIVATE_ENDPOINTS; link-local only when the route says so.
 */
export function addressPolicyFor(route: { allowPrivate: boolean | null; allowLinkLocal: boolean } | undefined, allowPrivateEndpoints: boolean): AddressPolicy {
  return { allowPrivate: route?.allowPrivate ?? allowPrivateEndpoints, allowLinkLocal: route?.allowLinkLocal ?? false };
}

export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'reserved';

function list(entries: [string, number, 'ipv4' | 'ipv6'][]): BlockList {
  const blocks = new BlockList();
  for (const [address, prefix, type] of entries) blocks.addSubnet(address, prefix, type);
  return blocks;
}

// Checked in this order: AWS's IPv6 metadata address lies inside fc00::/7.
const LINK_LOCAL = list([['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6'], ['fd00:ec2::254', 128, 'ipv6']]);
const LOOPBACK = list([['127.0.0.0', 8, 'ipv4'], ['0.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6'], ['::', 128, 'ipv6']]);
const PRIVATE = list([
  ['10.0.0.0', 8, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['100.64.0.0', 10, 'ipv4'], ['fc00::', 7, 'ipv6'],
]);
const RESERVED = list([['224.0.0.0', 3, 'ipv4'], ['ff00::', 8, 'ipv6']]);

export function classifyAddress(address: string): AddressClass {
  // An IPv4-mapped IPv6 address connects to the IPv4 address inside it.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const ip = mapped ?? address;
  const type = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  if (LINK_LOCAL.check(ip, type)) return 'link-local';
  if (LOOPBACK.check(ip, type)) return 'loopback';
  if (PRIVATE.check(ip, type)) return 'private';
  if (RESERVED.check(ip, type)) return 'reserved';
  return 'public';
}

export function isAllowed(address: string, policy: AddressPolicy): boolean {
  switch (classifyAddress(address)) {
    case 'public':
      return true;
    case 'loopback':
    case 'private':
      return policy.allowPrivate;
    case 'link-local':
      return policy.allowLinkLocal;
    case 'reserved':
      return false;
  }
}

/** An endpoint whose address the route's policy refuses: a configuration problem, not worth retrying. */
export class EndpointAddressError extends Error {
  override readonly name = 'EndpointAddressError';
  readonly code = 'EMXPOST_ADDRESS_REFUSED';
}

const refusal = (host: string, address: string) =>
  new EndpointAddressError(
    `endpoint ${host} is at ${address} (${classifyAddress(address)}), which this route does not allow (MXPOST_ALLOW_PRIVATE_ENDPOINTS, allowPrivate, allowLinkLocal)`,
  );

/** IP-literal URLs skip DNS, so they are checked here, before the request. */
export function checkLiteralHost(url: string, policy: AddressPolicy): void {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && !isAllowed(host, policy)) throw refusal(host, host);
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A DNS lookup for the HTTP client that drops the addresses the policy refuses.
 * The socket connects to what this returns, so a name that resolves to a public
 * address when checked and a private one when used (DNS rebinding) cannot pass.
 */
function guardedLookup(policy: AddressPolicy) {
  return (hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const allowed = addresses.filter((a) => isAllowed(a.address, policy));
      if (allowed.length === 0) return callback(refusal(hostname, addresses[0]?.address ?? '?'), []);
      if (options.all) return callback(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

/** One HTTP client per policy, each enforcing it on every connection it opens. */
export function createDispatchers(options: { connectTimeoutMs: number }) {
  const agents = new Map<string, Agent>();
  return {
    for(policy: AddressPolicy): Dispatcher {
      const key = `${policy.allowPrivate}/${policy.allowLinkLocal}`;
      let agent = agents.get(key);
      if (!agent) {
        agent = new Agent({ connect: { timeout: options.connectTimeoutMs, lookup: guardedLookup(policy) as never } });
        agents.set(key, agent);
      }
      return agent;
    },
    async close(): Promise<void> {
      await Promise.allSettled([...agents.values()].map((a) => a.close()));
    },
  };
}
