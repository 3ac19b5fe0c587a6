import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkLiteralHost, classifyAddress, isAllowed } from '../../src/delivery/network.ts';

test('classifies loopback, private, link-local and metadata addresses', () => {
  const cases: [string, string][] = [
    ['127.0.0.1', 'loopback'], ['::1', 'loopback'], ['0.0.0.0', 'loopback'],
    ['10.1.2.3', 'private'], ['172.20.0.1', 'private'], ['192.168.1.1', 'private'], ['fd12::1', 'private'], ['100.64.0.1', 'private'],
    ['169.254.169.254', 'link-local'], ['fe80::1', 'link-local'], ['fd00:ec2::254', 'link-local'],
    ['::ffff:169.254.169.254', 'link-local'], ['::ffff:127.0.0.1', 'loopback'],
    ['93.184.216.34', 'public'], ['2606:4700::1111', 'public'], ['224.0.0.1', 'reserved'],
  ];
  for (const [address, expected] of cases) assert.equal(classifyAddress(address), expected, address);
});

test('allows private addresses by default but link-local ones only when asked', () => {
  const byDefault = { allowPrivate: true, allowLinkLocal: false };
  assert.equal(isAllowed('10.0.0.5', byDefault), true);
  assert.equal(isAllowed('169.254.169.254', byDefault), false);
  assert.equal(isAllowed('169.254.169.254', { allowPrivate: true, allowLinkLocal: true }), true);
  assert.equal(isAllowed('127.0.0.1', { allowPrivate: false, allowLinkLocal: false }), false);
});

test('refuses an IP-literal URL that the policy refuses, since it skips DNS', () => {
  const policy = { allowPrivate: false, allowLinkLocal: false };
  assert.throws(() => checkLiteralHost('http://169.254.169.254/latest/meta-data', policy), { name: 'EndpointAddressError' });
  assert.throws(() => checkLiteralHost('http://[::1]:8080/x', policy), /::1 \(loopback\)/);
  assert.doesNotThrow(() => checkLiteralHost('https://hooks.example.test/x', policy));
});
