import type { Change } from '@edgeport/schema';
import type { AwaitNode, NodeChanges, NodeNotifier } from '../domain/node-door.ts';
import type { NodeChannelRpc } from '../bindings.ts';

/**
 * The node door's messenger: each node's changes go to its NodeChannel object by RPC. A node
 * that cannot be told now is not an error for the caller (unless it is the node being waited
 * for): the database holds the change, and the node gets it with its next snapshot.
 */
export function channelNotifier(ns: DurableObjectNamespace<NodeChannelRpc>): NodeNotifier {
  return {
    async push(changes: NodeChanges, awaitNode?: AwaitNode): Promise<boolean> {
      const all = new Map(changes);
      if (awaitNode && !all.has(awaitNode.nodeId)) all.set(awaitNode.nodeId, []);
      const results = await Promise.all(
        [...all].map(async ([nodeId, c]): Promise<[string, boolean]> => {
          const stub = ns.get(ns.idFromName(nodeId));
          const wait = awaitNode?.nodeId === nodeId ? awaitNode.waitMs : 0;
          try {
            if (c === 'resync') return [nodeId, (await stub.resync(wait)).acked];
            return [nodeId, (await stub.push(c as Change[], wait)).acked];
          } catch (err) {
            console.error(JSON.stringify({ level: 'error', msg: 'could not reach a node channel', node: nodeId, error: (err as Error).message }));
            return [nodeId, false];
          }
        }),
      );
      return awaitNode ? (results.find(([n]) => n === awaitNode.nodeId)?.[1] ?? false) : true;
    },
    async health(nodeId) {
      try {
        const s = await ns.get(ns.idFromName(nodeId)).status();
        return { connected: s.connected, lastSeenAt: s.lastSeenAt };
      } catch {
        return { connected: false, lastSeenAt: null };
      }
    },
  };
}
