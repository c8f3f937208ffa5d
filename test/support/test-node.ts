import WebSocket from 'ws';
import { PROTOCOL_VERSION, type HubMessage } from '@edgeport/schema';

/**
 * A node for black-box tests that are about the portal, not the agent: it speaks the real
 * protocol over a real WebSocket and acknowledges every snapshot and delta at once. Tests of the
 * agent itself run the real agent (test/agent-channel.test.ts).
 */
export class AckingNode {
  readonly messages: HubMessage[] = [];
  private constructor(private readonly ws: WebSocket) {}

  static async start(origin: string, nodeId: string, credential: string, wgPublicKey: string | null = null): Promise<AckingNode> {
    const ws = new WebSocket(`${origin.replace(/^http/, 'ws')}/node/ws`, { headers: { authorization: `Bearer ${credential}`, 'x-edgeport-node': nodeId } });
    const node = new AckingNode(ws);
    const snapshot = new Promise<void>((resolve, reject) => {
      ws.on('error', reject);
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as HubMessage;
        node.messages.push(m);
        if (m.type === 'snapshot') {
          ws.send(JSON.stringify({ type: 'ack', revision: m.config.revision }));
          resolve();
        }
        if (m.type === 'delta') ws.send(JSON.stringify({ type: 'ack', revision: m.revision }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        protocol: PROTOCOL_VERSION,
        node_id: nodeId,
        agent_version: 'acking-test-node',
        applied_revision: null,
        wg_public_key: wgPublicKey,
        capabilities: ['wireguard', 'openvpn'],
      }),
    );
    await snapshot;
    return node;
  }

  close(): void {
    this.ws.close();
  }
}

/** Enrolls a node through the portal's own endpoint and returns its credential. */
export async function enrollThroughApi(origin: string, admin: { api(m: string, p: string, b?: unknown): Promise<Response> }, nodeId: string): Promise<string> {
  const { token } = (await (await admin.api('POST', `/admin/api/nodes/${nodeId}/enrollment`)).json()) as { token: string };
  const r = await fetch(`${origin}/node/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ node_id: nodeId, token }) });
  return ((await r.json()) as { credential: string }).credential;
}
