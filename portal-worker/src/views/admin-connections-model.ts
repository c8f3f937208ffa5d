import { indexReport, liveStatus, type LiveStatus } from '../domain/live-status.ts';
import type { ConfigRow, SessionsSnapshot } from '../store/live-sessions.ts';

export interface ConnectionRow {
  config: ConfigRow;
  status: LiveStatus;
}

export type ReportState = { kind: 'none' } | { kind: 'stale'; at: number } | { kind: 'fresh'; at: number };

export interface NodeSection {
  nodeId: string;
  name: string;
  report: ReportState;
  rows: ConnectionRow[];
  active: number;
}

export interface ProfileSection {
  id: string;
  displayName: string;
  nodes: NodeSection[];
}

export interface Skeleton {
  profiles: { id: string; displayName: string }[];
  served: { profileId: string; nodeId: string }[];
  nodes: { id: string; name: string }[];
}

/**
 * One section per profile, one table per node serving it (or still carrying its configs, after
 * an assignment changed), each row a placed configuration with what the node last reported.
 */
export function connectionSections(skeleton: Skeleton, configs: readonly ConfigRow[], reports: ReadonlyMap<string, SessionsSnapshot | null>, now: number): ProfileSection[] {
  const indexed = new Map([...reports].map(([nodeId, r]) => [nodeId, indexReport(r, now)]));
  const names = new Map(skeleton.nodes.map((n) => [n.id, n.name]));
  return skeleton.profiles.map((p) => {
    const mine = configs.filter((c) => c.profileId === p.id);
    const nodeIds = new Set([...skeleton.served.filter((s) => s.profileId === p.id).map((s) => s.nodeId), ...mine.map((c) => c.nodeId)]);
    const nodes = [...nodeIds]
      .map((nodeId): NodeSection => {
        const report = indexed.get(nodeId) ?? null;
        const raw = reports.get(nodeId) ?? null;
        const rows = mine.filter((c) => c.nodeId === nodeId).map((config) => ({ config, status: liveStatus(config, report) }));
        return {
          nodeId,
          name: names.get(nodeId) ?? nodeId,
          report: report ? { kind: 'fresh', at: report.at } : raw ? { kind: 'stale', at: raw.at } : { kind: 'none' },
          rows,
          active: rows.filter((r) => r.status.kind === 'connected').length,
        };
      })
      .sort((a, b) => a.name.localeCompare(b.name) || a.nodeId.localeCompare(b.nodeId));
    return { id: p.id, displayName: p.displayName, nodes };
  });
}

/** Every node the page has to ask for a report. */
export function nodesToAsk(sections: Skeleton, configs: readonly ConfigRow[]): string[] {
  return [...new Set([...sections.served.map((s) => s.nodeId), ...configs.map((c) => c.nodeId)])];
}
