import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyChanges, parseHubMessage, parseNodeMessage, type DesiredConfig } from '@edgeport/schema';
import { Backoff } from '../src/backoff.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { jsonLogger } from '../src/log.ts';
import { loadDesired, saveDesired } from '../src/state.ts';

const dir = mkdtempSync(join(tmpdir(), 'ep-agent-core-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('configuration from the environment', () => {
  const cred = join(dir, 'cred');
  writeFileSync(cred, 'c'.repeat(48));
  const base = { EDGEPORT_PORTAL_URLS: 'https://a.example.org,https://b.example.org', EDGEPORT_NODE_ID: 'ams1', EDGEPORT_CREDENTIAL_FILE: cred };

  it('reads a complete configuration', () => {
    const c = loadConfig(base);
    expect(c.portalUrls.map(String)).toEqual(['https://a.example.org/', 'https://b.example.org/']);
    expect(c).toMatchObject({ nodeId: 'ams1', credential: 'c'.repeat(48), wgInterface: 'wg0', netns: null, metricsPort: 9570, heartbeatMs: 10_000, backend: 'system' });
    expect(loadConfig({ ...base, EDGEPORT_NETNS: 'vpn-a' }).netns).toBe('vpn-a');
  });

  it('prefers the systemd credential directory', () => {
    writeFileSync(join(dir, 'node-credential'), 'd'.repeat(40));
    expect(loadConfig({ ...base, CREDENTIALS_DIRECTORY: dir }).credential).toBe('d'.repeat(40));
  });

  it.each([
    [{ EDGEPORT_PORTAL_URLS: undefined }, /EDGEPORT_PORTAL_URLS is not set/],
    [{ EDGEPORT_PORTAL_URLS: 'http://portal.example.org' }, /EDGEPORT_PORTAL_URLS: .* must be https/],
    [{ EDGEPORT_NODE_ID: 'Not An Id' }, /EDGEPORT_NODE_ID/],
    [{ EDGEPORT_CREDENTIAL_FILE: join(dir, 'missing') }, /cannot read the node credential/],
    [{ EDGEPORT_HEARTBEAT_SECONDS: 'soon' }, /EDGEPORT_HEARTBEAT_SECONDS/],
    [{ EDGEPORT_METRICS_ADDR: '0.0.0.0:9570' }, /EDGEPORT_METRICS_ADDR must be a loopback/],
    [{ EDGEPORT_WG_INTERFACE: 'much-too-long-name' }, /EDGEPORT_WG_INTERFACE/],
    [{ EDGEPORT_NETNS: 'a b; rm' }, /EDGEPORT_NETNS/],
  ])('names the bad variable: %o', (patch, message) => {
    expect(() => loadConfig({ ...base, ...patch })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, ...patch })).toThrow(message);
  });
});

describe('backoff', () => {
  it('doubles from 1 s to a 60 s cap with full jitter, and waits the cap after a refusal', () => {
    const ceilings = (() => {
      const b = new Backoff(() => 0.999999);
      return Array.from({ length: 9 }, () => b.next());
    })();
    expect(ceilings).toEqual([999, 1999, 3999, 7999, 15999, 31999, 59999, 59999, 59999]);
    const zero = new Backoff(() => 0);
    expect(zero.next()).toBe(0);
    const b = new Backoff(() => 0.5);
    b.next();
    b.next();
    b.reset();
    expect(b.next()).toBe(500);
    expect(b.refused()).toBe(60_000);
  });
});

describe('state on disk', () => {
  it('saves atomically with mode 0600 and loads back; a corrupt file reads as none', async () => {
    const config: DesiredConfig = { node_id: 'n', revision: 7, ca_cert: null, profiles: [], peers: [], certificates: [] };
    const stateDir = join(dir, 'state');
    await saveDesired(stateDir, config);
    expect(statSync(join(stateDir, 'desired.json')).mode & 0o777).toBe(0o600);
    expect(await loadDesired(stateDir)).toEqual(config);
    writeFileSync(join(stateDir, 'desired.json'), '{"node_id":');
    expect(await loadDesired(stateDir)).toBeNull();
  });
});

describe('logs', () => {
  it('are JSON lines without secrets', () => {
    const lines: string[] = [];
    jsonLogger((l) => lines.push(l)).info('enrolled', { credential: 'abc', nested: { private_key: 'k', public_key: 'pub' }, node: 'n' });
    const entry = JSON.parse(lines[0] as string);
    expect(entry).toMatchObject({ level: 'info', msg: 'enrolled', credential: '[redacted]', nested: { private_key: '[redacted]', public_key: 'pub' }, node: 'n' });
    expect(lines[0]).not.toContain('abc');
  });
});

describe('wire protocol', () => {
  it('ignores unknown message types and rejects malformed ones', () => {
    expect(parseNodeMessage('{"type":"from_the_future","x":1}')).toEqual({ kind: 'unknown', type: 'from_the_future' });
    expect(parseHubMessage('{"type":"delta","base":"x"}').kind).toBe('invalid');
    expect(parseHubMessage('not json').kind).toBe('invalid');
    expect(parseNodeMessage(JSON.stringify({ type: 'ack', revision: 3 }))).toEqual({ kind: 'ok', message: { type: 'ack', revision: 3 } });
  });

  it('applies changes idempotently', () => {
    const peer = { public_key: `${'A'.repeat(42)}A=`, profile_id: 'p', ip_four: '10.0.0.2', ip_six: 'fd00::2', expires_at: 5 };
    const base: DesiredConfig = { node_id: 'n', revision: 1, ca_cert: null, profiles: [], peers: [], certificates: [] };
    const once = applyChanges(base, 2, [{ op: 'peer_add', peer }]);
    const twice = applyChanges(once, 2, [{ op: 'peer_add', peer }]);
    expect(twice).toEqual(once);
    expect(
      applyChanges(twice, 3, [
        { op: 'peer_remove', public_key: peer.public_key },
        { op: 'peer_remove', public_key: peer.public_key },
      ]).peers,
    ).toEqual([]);
  });
});
