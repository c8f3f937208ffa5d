import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientNet } from './support/client-net.ts';
import { NpmStart, freshCopy, processesIn, removeCopy } from './support/npm-start.ts';
import { freePort } from './support/world.ts';

/**
 * `npm start` stopped the way terminals, `timeout`, CI runners and process managers stop it: a
 * signal to its whole process group, at any moment of start-up. Every child must go (wrangler
 * dev and its workerd, the agent), the port must be free for the next start. A signal that
 * came while the first run set up the local node used to leave wrangler dev running on the port.
 */

let copy = '';
let net: ClientNet;

/** Whether anything still accepts connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** The tunnels a local node leaves up by design (wireguard-go, OpenVPN servers), ended between runs. */
function endTunnels(iface: string): void {
  for (const line of processesIn(copy)) if (/ \S*openvpn /.test(line)) process.kill(Number(line.split(' ')[0]), 'SIGKILL');
  try {
    execFileSync('ip', ['link', 'del', iface], { stdio: 'ignore' });
  } catch {}
}

beforeAll(async () => {
  net = await ClientNet.create();
  copy = freshCopy('start-stop', true);
}, 120_000);

afterAll(async () => {
  if (copy) removeCopy(copy);
  await net?.cleanup();
}, 60_000);

// Each run is a first run (no .data), so the local node's set-up is part of every start-up.
const moments: [string, NodeJS.Signals, RegExp | number][] = [
  ['while wrangler dev starts', 'SIGTERM', 1_500],
  ['while the first run sets up the local node', 'SIGTERM', /First run: an administrator was created/],
  ['while the first run sets up the local node (Ctrl-C)', 'SIGINT', /First run: an administrator was created/],
  ['once the quick start is ready', 'SIGTERM', /More profiles: /],
];

describe('journey: stopping npm start by its process group at any moment', () => {
  it.each(moments)(
    '%s: %s to the group leaves no child running and the port free',
    async (_what, signal, when) => {
      rmSync(join(copy, '.data'), { recursive: true, force: true });
      const port = await freePort();
      const iface = net.interfaceName('s');
      const start = new NpmStart(copy, { PORT: String(port), EDGEPORT_HOST: '127.0.0.1', EDGEPORT_WG_INTERFACE: iface, EDGEPORT_METRICS_ADDR: `127.0.0.1:${await freePort()}` });
      try {
        if (typeof when === 'number') await new Promise((r) => setTimeout(r, when));
        else await start.wait(when, 120_000);
        start.signal(signal);
        const deadline = Date.now() + 15_000;
        const left = () => processesIn(copy).filter((p) => !/^\d+ \S*(openvpn|wireguard-go) /.test(p));
        while (left().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        expect(left(), `still running 15 s after ${signal}:\n${start.out.slice(-2000)}`).toEqual([]);
        expect(await listening(port)).toBe(false);
      } finally {
        await start.stop(5_000);
        endTunnels(iface);
      }
    },
    180_000,
  );
});
