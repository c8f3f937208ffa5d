import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What /metrics shows; the agent keeps one of these current. */
export interface MetricsState {
  version: string;
  connected: boolean;
  appliedRevision: number | null;
  peers: number;
  sessions: number;
  reconnects: number;
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/** Prometheus text exposition format 0.0.4. Pure, so the exact text is tested. */
export function renderMetrics(s: MetricsState): string {
  const lines: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string, value: number, labels = '') => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}${labels} ${value}`);
  };
  metric('edgeport_agent_info', 'gauge', 'Agent build information.', 1, `{version="${escapeLabel(s.version)}"}`);
  metric('edgeport_agent_connected', 'gauge', 'Whether the node channel to the portal is open (1) or not (0).', s.connected ? 1 : 0);
  metric('edgeport_agent_applied_revision', 'gauge', 'Revision of the config applied on this node (-1: none yet).', s.appliedRevision ?? -1);
  metric('edgeport_agent_peers', 'gauge', 'WireGuard peers configured on the interface.', s.peers);
  metric('edgeport_agent_sessions', 'gauge', 'Active VPN sessions (WireGuard handshake in the last 3 minutes, connected OpenVPN clients).', s.sessions);
  metric('edgeport_agent_reconnects_total', 'counter', 'Connection attempts to the portal after the first one.', s.reconnects);
  return `${lines.join('\n')}\n`;
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves /metrics. The address is loopback only (config.ts refuses anything else): node metrics
 * say which profiles carry how many sessions, which is not for the world. Port 0 picks a free port.
 */
export async function startMetrics(host: string, port: number, read: () => MetricsState): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(renderMetrics(read()));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
