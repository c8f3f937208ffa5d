import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admission } from '../src/openvpn/backend.ts';
import { connectManagement, ManagementError } from '../src/openvpn/management.ts';
import { ManagementParser, parseStatus3, type ManagementMessage } from '../src/openvpn/management-protocol.ts';

// Recorded from OpenVPN 2.6.14 with --management-client-auth and auth-user-pass-optional: a
// certificate-only client connecting, being admitted, and the status that followed (ENV lists
// shortened; OpenVPN ends lines with CRLF).
const GREETING = ">INFO:OpenVPN Management Interface Version 5 -- type 'help' for more info";
const CONNECT = [
  '>CLIENT:CONNECT,0,1',
  '>CLIENT:ENV,n_clients=0',
  '>CLIENT:ENV,password=',
  '>CLIENT:ENV,untrusted_port=60943',
  '>CLIENT:ENV,untrusted_ip=127.0.0.1',
  '>CLIENT:ENV,common_name=alice',
  '>CLIENT:ENV,username=',
  '>CLIENT:ENV,IV_VER=2.6.14',
  '>CLIENT:ENV,tls_id_0=CN=alice, OU=p1',
  '>CLIENT:ENV,X509_0_OU=p1',
  '>CLIENT:ENV,X509_0_CN=alice',
  '>CLIENT:ENV,tls_id_1=CN=testca',
  '>CLIENT:ENV,X509_1_CN=testca',
  '>CLIENT:ENV,ifconfig_local=10.9.0.1',
  '>CLIENT:ENV,END',
];
const AFTER_AUTH = [
  'SUCCESS: client-auth command succeeded',
  '>CLIENT:ADDRESS,0,10.9.0.2,1',
  '>CLIENT:ADDRESS,0,fd00:9::2,1',
  '>CLIENT:ESTABLISHED,0',
  '>CLIENT:ENV,n_clients=1',
  '>CLIENT:ENV,ifconfig_pool_remote_ip6=fd00:9::2',
  '>CLIENT:ENV,ifconfig_pool_remote_ip=10.9.0.2',
  '>CLIENT:ENV,time_unix=1795656768',
  '>CLIENT:ENV,trusted_port=60943',
  '>CLIENT:ENV,trusted_ip=127.0.0.1',
  '>CLIENT:ENV,common_name=alice',
  '>CLIENT:ENV,X509_0_OU=p1',
  '>CLIENT:ENV,END',
];
const STATUS = [
  'TITLE\tOpenVPN 2.6.14 x86_64-pc-linux-gnu [SSL (OpenSSL)] [LZO] [LZ4] [EPOLL] [PKCS11] [MH/PKTINFO] [AEAD] [DCO]',
  'TIME\t2026-11-26 01:32:49\t1795656769',
  'HEADER\tCLIENT_LIST\tCommon Name\tReal Address\tVirtual Address\tVirtual IPv6 Address\tBytes Received\tBytes Sent\tConnected Since\tConnected Since (time_t)\tUsername\tClient ID\tPeer ID\tData Channel Cipher',
  'CLIENT_LIST\talice\t127.0.0.1:60943\t10.9.0.2\tfd00:9::2\t1996\t2118\t2026-11-26 01:32:48\t1795656768\tUNDEF\t0\t0\tAES-256-GCM',
  'CLIENT_LIST\tbob\t2001:db8::7:51820\t10.9.0.3\t\t10\t20\t2026-11-26 01:32:50\t1795656770\tUNDEF\t4\t1\tCHACHA20-POLY1305',
  'HEADER\tROUTING_TABLE\tVirtual Address\tCommon Name\tReal Address\tLast Ref\tLast Ref (time_t)',
  'ROUTING_TABLE\t10.9.0.2\talice\t127.0.0.1:60943\t2026-11-26 01:32:49\t1795656769',
  'GLOBAL_STATS\tMax bcast/mcast queue length\t0',
  'GLOBAL_STATS\tdco_enabled\t0',
  'END',
];
const DISCONNECT = [
  '>CLIENT:DISCONNECT,0',
  '>CLIENT:ENV,bytes_received=5311',
  '>CLIENT:ENV,bytes_sent=4190',
  '>CLIENT:ENV,trusted_ip=127.0.0.1',
  '>CLIENT:ENV,ifconfig_pool_remote_ip=10.9.0.2',
  '>CLIENT:ENV,common_name=alice',
  '>CLIENT:ENV,END',
];

const crlf = (ls: readonly string[]) => ls.map((l) => `${l}\r\n`).join('');

describe('ManagementParser', () => {
  it('turns a recorded session into notifications, client blocks and reply lines', () => {
    const p = new ManagementParser();
    const out = p.feed(crlf([GREETING, ...CONNECT, ...AFTER_AUTH, ...DISCONNECT]));
    expect(out.map((m) => (m.kind === 'client' ? `${m.kind}:${m.event}:${m.cid}:${m.kid}` : m.kind))).toEqual([
      'notification',
      'client:CONNECT:0:1',
      'reply',
      'address',
      'address',
      'client:ESTABLISHED:0:null',
      'client:DISCONNECT:0:null',
    ]);
    expect(out[0]).toEqual({ kind: 'notification', tag: 'INFO', text: "OpenVPN Management Interface Version 5 -- type 'help' for more info" });
    const connect = out[1] as Extract<ManagementMessage, { kind: 'client' }>;
    expect(connect.env.common_name).toBe('alice');
    expect(connect.env.X509_0_OU).toBe('p1');
    expect(connect.env.password).toBe('');
    // Only the first '=' separates name from value.
    expect(connect.env.tls_id_0).toBe('CN=alice, OU=p1');
    expect(out[2]).toEqual({ kind: 'reply', line: 'SUCCESS: client-auth command succeeded' });
    expect(out[3]).toEqual({ kind: 'address', cid: 0, address: '10.9.0.2', primary: true });
    const established = out[5] as Extract<ManagementMessage, { kind: 'client' }>;
    expect([established.env.trusted_ip, established.env.ifconfig_pool_remote_ip, established.env.ifconfig_pool_remote_ip6]).toEqual(['127.0.0.1', '10.9.0.2', 'fd00:9::2']);
    const disconnect = out[6] as Extract<ManagementMessage, { kind: 'client' }>;
    expect([disconnect.env.bytes_received, disconnect.env.bytes_sent]).toEqual(['5311', '4190']);
  });

  it('gives the same messages however the text is split into chunks', () => {
    const text = crlf([GREETING, ...CONNECT, ...AFTER_AUTH, ...STATUS, ...DISCONNECT]);
    const whole = new ManagementParser().feed(text);
    for (const size of [1, 2, 7, 64, 1000]) {
      const p = new ManagementParser();
      const out: ManagementMessage[] = [];
      for (let i = 0; i < text.length; i += size) out.push(...p.feed(text.slice(i, i + size)));
      expect(out).toEqual(whole);
    }
    expect(new ManagementParser().feed('>CLIENT:ESTABLISHED,3\r\n>CLIENT:ENV,a=1')).toEqual([]);
  });

  it('does not merge a block that lost its END into the next one, and ignores stray ENV lines', () => {
    const out = new ManagementParser().feed(
      crlf(['>CLIENT:ENV,x=1', '>CLIENT:REAUTH,5,2', '>CLIENT:ENV,common_name=a', '>CLIENT:CONNECT,6,0', '>CLIENT:ENV,common_name=b', '>CLIENT:ENV,END', '>CLIENT:FUTURE,1', '>LOG:x']),
    );
    expect(out).toEqual([
      { kind: 'client', event: 'REAUTH', cid: 5, kid: 2, env: { common_name: 'a' } },
      { kind: 'client', event: 'CONNECT', cid: 6, kid: 0, env: { common_name: 'b' } },
      { kind: 'notification', tag: 'CLIENT', text: 'FUTURE,1' },
      { kind: 'notification', tag: 'LOG', text: 'x' },
    ]);
  });

  it('parses status 3 by its header, with real addresses stripped of the port', () => {
    expect(parseStatus3(STATUS)).toEqual([
      { commonName: 'alice', realAddress: '127.0.0.1', ipFour: '10.9.0.2', ipSix: 'fd00:9::2', rx: 1996, tx: 2118, connectedSince: 1795656768, cid: 0 },
      { commonName: 'bob', realAddress: '2001:db8::7', ipFour: '10.9.0.3', ipSix: null, rx: 10, tx: 20, connectedSince: 1795656770, cid: 4 },
    ]);
    expect(parseStatus3(['TITLE\tx', 'END'])).toEqual([]);
  });
});

describe('admission', () => {
  const allowed = new Map([
    ['alice', 'p1'],
    ['dave', 'p2'],
  ]);
  it('admits a CN allowed for this profile whose certificate names the profile', () => {
    expect(admission(allowed, 'p1', { common_name: 'alice', X509_0_OU: 'p1' })).toEqual({ admit: true });
  });
  it('refuses unknown CNs, CNs of another profile and certificates of another OU', () => {
    expect(admission(allowed, 'p1', { common_name: 'mallory', X509_0_OU: 'p1' })).toEqual({ admit: false, reason: 'unknown certificate' });
    expect(admission(allowed, 'p1', { common_name: 'dave', X509_0_OU: 'p1' })).toEqual({ admit: false, reason: 'certificate is for profile p2' });
    expect(admission(allowed, 'p1', { common_name: 'alice', X509_0_OU: 'p2' })).toMatchObject({ admit: false });
    expect(admission(allowed, 'p1', { common_name: 'alice' })).toMatchObject({ admit: false });
    expect(admission(allowed, 'p1', {})).toMatchObject({ admit: false });
  });
});

/**
 * A unix socket playing OpenVPN's part from the recorded text: it greets, records each command,
 * and answers with `reply(command)` whenever the test releases it.
 */
class FakeOpenvpn {
  readonly commands: string[] = [];
  socket: Socket | null = null;
  private server: Server;
  constructor(
    readonly path: string,
    private readonly reply: (command: string) => string[],
  ) {
    this.server = createServer((s) => {
      this.socket = s;
      s.setEncoding('utf8');
      let buffered = '';
      s.on('data', (d: string) => {
        buffered += d;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const command = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          this.commands.push(command);
          const lines = this.reply(command);
          if (lines.length) s.write(crlf(lines));
        }
      });
      s.write(crlf([GREETING]));
    });
  }
  listen(): Promise<void> {
    return new Promise((r) => this.server.listen(this.path, r));
  }
  send(lines: readonly string[]): void {
    this.socket?.write(crlf(lines));
  }
  close(): Promise<void> {
    this.socket?.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

describe('ManagementClient against recorded replies', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ep-mgmt-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('waits for the socket to appear, then sends typed commands and resolves their replies', async () => {
    const path = join(dir, 'a.sock');
    const fake = new FakeOpenvpn(path, (c) => {
      if (c === 'status 3') return STATUS;
      if (c.startsWith('client-kill 99 ')) return ['ERROR: client-kill command failed'];
      return ['SUCCESS: ok'];
    });
    const messages: ManagementMessage[] = [];
    // The process has not created its socket yet: the client retries until it has.
    const connecting = connectManagement(path, { retryMs: 20, onMessage: (m) => messages.push(m) });
    await new Promise((r) => setTimeout(r, 150));
    await fake.listen();
    const client = await connecting;

    expect(await client.status()).toHaveLength(2);
    await client.clientAuthNt(0, 1);
    await client.clientDeny(3, 0, 'certificate is for profile "x"\nkill 1');
    await client.clientKill(4, 'HALT');
    await expect(client.clientKill(99, 'HALT')).rejects.toThrow(ManagementError);
    expect(fake.commands).toEqual(['status 3', 'client-auth-nt 0 1', 'client-deny 3 0 "certificate is for profile _x__kill 1"', 'client-kill 4 HALT', 'client-kill 99 HALT']);
    // The greeting is consumed by connectManagement; later notifications reach onMessage.
    fake.send(CONNECT);
    await new Promise((r) => setTimeout(r, 50));
    expect(messages.map((m) => m.kind)).toEqual(['client']);
    client.close();
    await fake.close();
  });

  it('keeps one command outstanding and routes notifications that arrive in between', async () => {
    const path = join(dir, 'b.sock');
    const fake = new FakeOpenvpn(path, () => []);
    await fake.listen();
    const events: string[] = [];
    const client = await connectManagement(path, { onMessage: (m) => events.push(m.kind === 'client' ? m.event : m.kind) });

    const first = client.clientAuthNt(0, 1);
    const second = client.status();
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.commands).toEqual(['client-auth-nt 0 1']);
    // A client block between the reply and the next command's rows belongs to neither.
    fake.send(AFTER_AUTH);
    await first;
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.commands).toEqual(['client-auth-nt 0 1', 'status 3']);
    fake.send(STATUS.slice(0, 4));
    fake.send(DISCONNECT);
    fake.send(STATUS.slice(4));
    expect((await second).map((c) => c.commonName)).toEqual(['alice', 'bob']);
    expect(events).toEqual(['address', 'address', 'ESTABLISHED', 'DISCONNECT']);
    client.close();
    await fake.close();
  });

  it('fails queued commands when the connection drops, and a silent server times out', async () => {
    const path = join(dir, 'c.sock');
    const fake = new FakeOpenvpn(path, () => []);
    await fake.listen();
    let closed = 0;
    const client = await connectManagement(path, { commandTimeoutMs: 200, onClose: () => closed++ });
    const pending = [client.status(), client.clientKill(1)];
    await expect(pending[0]).rejects.toThrow(/closed: no reply to "status"/);
    await expect(pending[1]).rejects.toThrow(/closed/);
    expect(closed).toBe(1);
    expect(client.isOpen).toBe(false);
    await expect(client.status()).rejects.toThrow(/closed/);
    await fake.close();
  });

  it('gives up after its timeout when no socket appears', async () => {
    await expect(connectManagement(join(dir, 'never.sock'), { timeoutMs: 200, retryMs: 20 })).rejects.toThrow(/ENOENT/);
  });
});
