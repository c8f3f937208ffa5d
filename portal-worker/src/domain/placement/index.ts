/**
 * Placing one VPN config on a node, shared by the app API (/api/v3/connect) and the browser
 * portal: nodes in random order, health-checked, the config committed and pushed through the
 * node door, and only an acknowledged placement handed out.
 *
 * One job per file: `place-config.ts` chooses the node, `wireguard.ts` allocates an address on
 * it, `openvpn.ts` issues a client certificate, `ack.ts` commits through the node door and waits
 * for the node's ack, `endpoint.ts` names the host clients reach; `types.ts` holds what they share.
 */
export { placeConfig } from './place-config.ts';
export type { Clearing, ConfigOwner, ConnectResult, Placed, PlacementDeps, PlacementRequest, ServingNode } from './types.ts';
