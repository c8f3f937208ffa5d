import { createExecutionContext } from 'cloudflare:test';
import { PROTOCOL_VERSION, type HubMessage } from '@edgeport/schema';
import { app } from '../src/app.ts';
import { envFor, type Driver } from './helpers.ts';

/** A node's side of the channel: a real WebSocket to the real NodeChannel object. */
export class NodeSocket {
  private queue: HubMessage[] = [];
  private waiting: ((m: HubMessage) => void)[] = [];
  closed: { code: number; reason: string } | null = null;
  constructor(readonly ws: WebSocket) {
    ws.addEventListener('message', (e) => {
      const m = JSON.parse(e.data as string) as HubMessage;
      const w = this.waiting.shift();
      if (w) w(m);
      else this.queue.push(m);
    });
    ws.addEventListener('close', (e) => {
      this.closed = { code: e.code, reason: e.reason };
    });
  }
  next(ms = 3000, label = ''): Promise<HubMessage> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const waiter = (x: HubMessage) => (clearTimeout(t), resolve(x));
      // A waiter that timed out must not swallow the next message.
      const t = setTimeout(() => {
        this.waiting = this.waiting.filter((w) => w !== waiter);
        reject(new Error(`no message from the portal ${label}`));
      }, ms);
      this.waiting.push(waiter);
    });
  }
  /** Resolves true if nothing arrives within ms. */
  async quiet(ms = 300): Promise<boolean> {
    try {
      await this.next(ms);
      return false;
    } catch {
      return true;
    }
  }
  send(m: unknown) {
    this.ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  }
  hello(nodeId: string, applied: number | null, wgKey: string | null = null) {
    this.send({ type: 'hello', protocol: PROTOCOL_VERSION, node_id: nodeId, agent_version: 'test', applied_revision: applied, wg_public_key: wgKey, capabilities: ['wireguard', 'openvpn'] });
  }
}

export function portalFetch(url: string, init: RequestInit, driver: Driver = 'd1'): Promise<Response> {
  return Promise.resolve(app.fetch(new Request(url, init), envFor(driver), createExecutionContext()));
}

export async function open(nodeId: string, credential: string, driver: Driver = 'd1'): Promise<{ status: number; node: NodeSocket | null }> {
  const r = await portalFetch('http://portal.test/node/ws', { headers: { upgrade: 'websocket', authorization: `Bearer ${credential}`, 'x-edgeport-node': nodeId } }, driver);
  if (!r.webSocket) return { status: r.status, node: null };
  r.webSocket.accept();
  return { status: r.status, node: new NodeSocket(r.webSocket) };
}

/**
 * A node for tests that are about something else: enrolled, connected, and acknowledging every
 * snapshot and delta at once, like a healthy agent. `messages` keeps what it received.
 */
export class TestNode {
  readonly messages: HubMessage[] = [];
  private constructor(
    readonly nodeId: string,
    readonly socket: NodeSocket,
  ) {}

  static async start(nodeId: string, credential: string, driver: Driver = 'd1'): Promise<TestNode> {
    const { node } = await open(nodeId, credential, driver);
    if (!node) throw new Error('the test node could not connect');
    const t = new TestNode(nodeId, node);
    node.ws.addEventListener('message', (e) => {
      const m = JSON.parse(e.data as string) as HubMessage;
      t.messages.push(m);
      if (m.type === 'snapshot') node.send({ type: 'ack', revision: m.config.revision });
      if (m.type === 'delta') node.send({ type: 'ack', revision: m.revision });
    });
    node.hello(nodeId, null);
    // Wait until the hello was processed (the snapshot arrives), so the node counts as up.
    for (let i = 0; i < 100 && !t.messages.some((m) => m.type === 'snapshot'); i++) await new Promise((r) => setTimeout(r, 10));
    return t;
  }

  close() {
    this.socket.ws.close();
  }
}

export async function enrollNode(admin: { api(m: string, p: string, b?: unknown): Promise<Response> }, nodeId: string, driver: Driver = 'd1'): Promise<string> {
  const { token } = await (await admin.api('POST', `/admin/api/nodes/${nodeId}/enrollment`)).json<{ token: string }>();
  const r = await portalFetch('http://portal.test/node/enroll', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ node_id: nodeId, token }) }, driver);
  return (await r.json<{ credential: string }>()).credential;
}
