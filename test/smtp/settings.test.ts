import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadSettings, SettingsError } from '../../src/config/settings.ts';

test('the receiver’s limits have their documented defaults', () => {
  const settings = loadSettings({});
  assert.deepEqual(settings.smtpLimits, {
    maxConnections: 1000,
    maxConnectionsPerClient: 20,
    maxMessagesPerConnection: 100,
    maxRecipients: 100,
    maxErrors: 10,
    maxCommandBytes: 2048,
    maxMessageBytes: 25 * 1024 * 1024,
    maxHeaderBytes: 262144,
    idleTimeoutMs: 300_000,
    dataTimeoutMs: 300_000,
    dataMinRate: 1024,
    dataReplyTimeoutMs: 30_000,
  });
  assert.equal(settings.tls, null);
  assert.equal(settings.proxyProtocol, 'off');
  assert.equal(settings.durability, 'auto');
});

test('refuses the PROXY protocol without trusted proxies, and a certificate without its key, naming each', () => {
  assert.throws(
    () => loadSettings({ MXPOST_PROXY_PROTOCOL: 'v2', MXPOST_TLS_CERT: '/etc/tls/tls.crt' }),
    (err: unknown) => {
      assert.ok(err instanceof SettingsError);
      assert.equal(err.problems.length, 2);
      assert.match(err.message, /MXPOST_PROXY_TRUSTED: must list the proxies' addresses when MXPOST_PROXY_PROTOCOL=v2/);
      assert.match(err.message, /MXPOST_TLS_CERT and MXPOST_TLS_KEY: set both/);
      return true;
    },
  );
});

test('refuses a bad CIDR, a PEM given instead of its path, and fewer than 100 recipients', () => {
  assert.throws(
    () => loadSettings({ MXPOST_PROXY_TRUSTED: '10.0.0.0/40', MXPOST_TLS_CERT: '-----BEGIN CERTIFICATE-----\nMIIB', MXPOST_TLS_KEY: '/k', MXPOST_MAX_RECIPIENTS: '50' }),
    (err: unknown) => {
      assert.ok(err instanceof SettingsError);
      assert.match(err.message, /MXPOST_PROXY_TRUSTED="10.0.0.0\/40": "10.0.0.0\/40" is not an IP address or CIDR range/);
      assert.match(err.message, /MXPOST_TLS_CERT=.*must be the path of a PEM file/);
      assert.match(err.message, /MXPOST_MAX_RECIPIENTS="50"/);
      return true;
    },
  );
});

test('reads the TLS files, PROXY settings and durability from the environment', () => {
  const settings = loadSettings({
    MXPOST_TLS_CERT: '/etc/tls/tls.crt',
    MXPOST_TLS_KEY: '/etc/tls/tls.key',
    MXPOST_PROXY_PROTOCOL: 'auto',
    MXPOST_PROXY_TRUSTED: '10.0.0.0/8,fd00::/8',
    MXPOST_DURABILITY: 'fsync',
    MXPOST_REDIS_MIN_REPLICAS: '1',
  });
  assert.deepEqual(settings.tls, { certPath: '/etc/tls/tls.crt', keyPath: '/etc/tls/tls.key' });
  assert.deepEqual(settings.proxyTrusted.ranges, ['10.0.0.0/8', 'fd00::/8']);
  assert.ok(settings.proxyTrusted.has('10.1.2.3'));
  assert.equal(settings.durability, 'fsync');
  assert.equal(settings.redisMinReplicas, 1);
});
