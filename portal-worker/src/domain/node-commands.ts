import { z } from 'zod';
import type { Db } from '../core/db.ts';
import { AppError, type FieldError } from '../core/errors.ts';
import { fieldErrors } from './validation.ts';
import type { AuditContext } from '../store/audit.ts';
import { createNodeStatements, deleteNodeStatements, getNode, listNodes, updateNodeStatements, type NodeInput } from '../store/nodes.ts';
import { isUniqueViolation } from '@edgeport/schema';
import { applyNodeChange, resyncAll, type NodeNotifier } from './node-door.ts';
import { listProfiles, rangesInUse } from '../store/profiles.ts';
import type { ProfileConfig } from './profile.ts';
import { overlaps, parseCidr, parseIp } from '@edgeport/schema/ip';

const HOST = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const rangePair = z.object({ range_four: z.string(), range_six: z.string() }).strict().nullable().default(null);

const NodeBody = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lowercase letters, digits, ".", "_" and "-", at most 63'),
    name: z.string().trim().min(1).max(255),
    host_name: z.string().refine((h) => HOST.test(h) || parseIp(h) !== null, 'must be a DNS name or an IP address'),
    // 32 bytes of Curve25519 public key, base64 (what `wg pubkey` prints). The node reports its
    // own key; an edit that leaves the field out keeps the key it reported (an edit that wrote
    // back the form's stale empty value erased it, and nothing told the portal again). `null`
    // forgets it on purpose: the node's next hello or heartbeat pins the key it has then.
    wg_public_key: z
      .string()
      .regex(/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/, 'must be a WireGuard public key (base64 of 32 bytes)')
      .nullable()
      .optional(),
    profiles: z
      .array(
        z
          .object({
            profile_id: z.string().min(1).max(255),
            host_name: z
              .string()
              .refine((h) => HOST.test(h) || parseIp(h) !== null, 'must be a DNS name or an IP address')
              .nullable()
              .default(null),
            wireguard: rangePair,
            openvpn: rangePair,
          })
          .strict(),
      )
      .max(256)
      .default([]),
  })
  .strict();

export type NodeResult = { ok: true; node: NodeInput } | { ok: false; errors: FieldError[] };

/**
 * A node listens on one WireGuard port, shared by all its WireGuard profiles (upstream eduVPN's
 * one port per node): a WireGuard profile whose port differs from that of an earlier one in the
 * list would hand its clients an Endpoint port nobody listens on, so its assignment is refused.
 */
function wireguardPortErrors(assignments: readonly { profile_id: string }[], profiles: ReadonlyMap<string, ProfileConfig>): FieldError[] {
  const errors: FieldError[] = [];
  let first: { id: string; port: number } | null = null;
  assignments.forEach((a, i) => {
    const port = profiles.get(a.profile_id)?.wireguard?.port;
    if (port === undefined) return;
    if (!first) return void (first = { id: a.profile_id, port });
    if (port !== first.port) {
      errors.push({
        path: `profiles.${i}.profile_id`,
        message: `WireGuard port ${port} of profile "${a.profile_id}" differs from port ${first.port} of profile "${first.id}" on this node: a node listens on one WireGuard port`,
      });
    }
  });
  return errors;
}

/**
 * Each node's ranges must be disjoint from every other range in service (a client address
 * names one profile on one node). A node without its own ranges uses the profile's, which only
 * one node per profile may do.
 */
async function validateNode(db: Db, input: unknown): Promise<NodeResult> {
  const parsed = NodeBody.safeParse(input);
  if (!parsed.success) {
    return { ok: false, errors: fieldErrors(parsed.error) };
  }
  const node = parsed.data;
  const errors: FieldError[] = [];
  const profiles = new Map((await listProfiles(db)).map((p) => [p.id, p]));
  const others = (await listNodes(db)).filter((n) => n.id !== node.id);
  const taken = (await rangesInUse(db, null)).filter((r) => !r.owner.endsWith(`on node "${node.id}"`));
  const mine: { path: string; cidr: ReturnType<typeof parseCidr> }[] = [];

  node.profiles.forEach((a, i) => {
    const profile = profiles.get(a.profile_id);
    if (!profile) return void errors.push({ path: `profiles.${i}.profile_id`, message: `no profile "${a.profile_id}"` });
    if (node.profiles.findIndex((b) => b.profile_id === a.profile_id) !== i) errors.push({ path: `profiles.${i}.profile_id`, message: 'listed twice' });
    for (const proto of ['wireguard', 'openvpn'] as const) {
      if (!profile[proto]) {
        if (a[proto]) errors.push({ path: `profiles.${i}.${proto}`, message: `profile "${a.profile_id}" does not enable ${proto}` });
        continue;
      }
      const own = a[proto];
      if (!own) {
        const inheriting = others.find((n) => n.profiles.some((p) => p.profile_id === a.profile_id && p[proto] === null));
        if (inheriting) errors.push({ path: `profiles.${i}.${proto}`, message: `node "${inheriting.id}" already uses the profile's own ranges; give this node ranges of its own` });
        continue;
      }
      for (const [key, family] of [
        ['range_four', 4],
        ['range_six', 6],
      ] as const) {
        const path = `profiles.${i}.${proto}.${key}`;
        const r = parseCidr(own[key]);
        if (!r.ok) errors.push({ path, message: r.message });
        else if (r.cidr.family !== family) errors.push({ path, message: `must be an IPv${family} prefix` });
        else mine.push({ path, cidr: r });
      }
    }
  });

  errors.push(...wireguardPortErrors(node.profiles, profiles));

  mine.forEach((a, i) => {
    if (!a.cidr.ok) return;
    for (const b of mine.slice(i + 1)) if (b.cidr.ok && overlaps(a.cidr.cidr, b.cidr.cidr)) errors.push({ path: b.path, message: `overlaps ${a.path}` });
    for (const t of taken) {
      const other = parseCidr(t.cidr);
      if (other.ok && overlaps(a.cidr.cidr, other.cidr)) errors.push({ path: a.path, message: `overlaps ${t.cidr} used by ${t.owner}` });
    }
  });
  return errors.length ? { ok: false, errors } : { ok: true, node };
}

async function saving(work: Promise<unknown>, node: NodeInput): Promise<void> {
  try {
    await work;
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('conflict', `a node with id "${node.id}" or name "${node.name}" already exists`);
    throw err;
  }
}

export async function createNodeCommand(db: Db, notifier: NodeNotifier, input: unknown, now: number, audit: AuditContext): Promise<NodeResult> {
  const result = await validateNode(db, input);
  if (result.ok) await saving(applyNodeChange(db, notifier, createNodeStatements(db, result.node, now, audit), new Map()), result.node);
  return result;
}

export async function updateNodeCommand(db: Db, notifier: NodeNotifier, id: string, input: unknown, now: number, audit: AuditContext): Promise<NodeResult> {
  const before = await getNode(db, id);
  if (!before) throw new AppError('not_found', `no node "${id}"`);
  const result = await validateNode(db, { ...(input as object), id });
  if (result.ok) await saving(applyNodeChange(db, notifier, updateNodeStatements(db, before, result.node, now, audit), resyncAll([id])), result.node);
  return result;
}

export async function deleteNodeCommand(db: Db, notifier: NodeNotifier, id: string, now: number, audit: AuditContext): Promise<void> {
  const before = await getNode(db, id);
  if (!before) throw new AppError('not_found', `no node "${id}"`);
  // The node's own channel is cut by the route; nothing is left to tell it.
  await applyNodeChange(db, notifier, deleteNodeStatements(db, before, now, audit), new Map());
}
