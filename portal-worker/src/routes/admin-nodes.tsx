import { Hono, type Context } from 'hono';
import type { AppEnv } from '../env.ts';
import { AppError, type FieldError } from '../core/errors.ts';
import { createNodeCommand, deleteNodeCommand, updateNodeCommand, type NodeResult } from '../domain/node-commands.ts';
import { revokeNode, startEnrollment } from '../domain/enrollment.ts';
import { getNode, listNodes, nodeStates } from '../store/nodes.ts';
import { listProfiles } from '../store/profiles.ts';
import { NodeDetailPage, NodeStatusPanel, type Enrollment } from '../views/admin-node-detail.tsx';
import { nodeToForm, type NodeFormValues } from '../views/admin-node-form.tsx';
import { nodeHref, NodesPage, NodesTable, type NodeRow } from '../views/admin-nodes.tsx';
import { adminPage, auditContext, wantsFragment } from './admin-context.ts';
import { formValues } from './admin-forms.ts';
import { namedByProfile, nodeInputFromForm } from './admin-node-input.ts';

/** The nodes pages: live status, adding and editing, enrollment, revocation and deletion. */
export const adminNodes = new Hono<AppEnv>();

type C = Context<AppEnv>;

async function nodeRows(c: C): Promise<NodeRow[]> {
  const [nodes, states] = await Promise.all([listNodes(c.var.db), nodeStates(c.var.db)]);
  return nodes.flatMap((node) => {
    const state = states.get(node.id);
    return state ? [{ node, state }] : [];
  });
}

async function listPage(c: C, values: NodeFormValues, errors: FieldError[], status: 200 | 400 | 409 = 200) {
  const page = await adminPage(c);
  const [rows, profiles] = await Promise.all([nodeRows(c), listProfiles(c.var.db)]);
  return c.html(<NodesPage page={page} rows={rows} now={Date.now()} healthyMs={c.var.config.nodes.healthyMs} profiles={profiles} values={values} errors={errors} />, status);
}

async function detailPage(c: C, id: string, form: { values?: NodeFormValues; errors?: FieldError[]; enrollment?: Enrollment }, status: 200 | 400 | 409 = 200) {
  const [node, states, profiles] = await Promise.all([getNode(c.var.db, id), nodeStates(c.var.db, id), listProfiles(c.var.db)]);
  const state = states.get(id);
  if (!node || !state) throw new AppError('not_found', `no node "${id}"`);
  return c.html(
    <NodeDetailPage
      page={await adminPage(c)}
      node={node}
      state={state}
      now={Date.now()}
      healthyMs={c.var.config.nodes.healthyMs}
      profiles={profiles}
      values={form.values ?? nodeToForm(node)}
      errors={form.errors ?? []}
      enrollment={form.enrollment ?? null}
    />,
    status,
  );
}

/** A duplicate id or name is the admin's mistake too: the form comes back with it, as 409. */
async function saving(run: () => Promise<NodeResult>, values: NodeFormValues): Promise<{ ok: true; id: string } | { ok: false; errors: FieldError[]; status: 400 | 409 }> {
  try {
    const result = await run();
    return result.ok ? { ok: true, id: result.node.id } : { ok: false, errors: namedByProfile(result.errors, values), status: 400 };
  } catch (err) {
    if (err instanceof AppError && err.code === 'conflict') return { ok: false, errors: [{ path: 'id', message: err.message }], status: 409 };
    throw err;
  }
}

/** Cuts the node's live channel; its credential check refuses any reconnect (as the JSON API does). */
function disconnect(c: C, id: string, reason: string): Promise<void> {
  return c.env.NODE_CHANNEL.get(c.env.NODE_CHANNEL.idFromName(id)).disconnect(reason);
}

adminNodes.get('/', async (c) => {
  if (!wantsFragment(c)) return listPage(c, {}, []);
  return c.html(<NodesTable page={await adminPage(c)} rows={await nodeRows(c)} now={Date.now()} healthyMs={c.var.config.nodes.healthyMs} />);
});

adminNodes.post('/', async (c) => {
  const values = formValues(await c.req.parseBody());
  const r = await saving(() => createNodeCommand(c.var.db, c.var.notifier, nodeInputFromForm(values, true), Date.now(), auditContext(c)), values);
  if (r.ok) return c.redirect(nodeHref(r.id), 303);
  return listPage(c, values, r.errors, r.status);
});

adminNodes.get('/:id', async (c) => {
  const id = c.req.param('id');
  if (!wantsFragment(c)) return detailPage(c, id, {});
  const state = (await nodeStates(c.var.db, id)).get(id);
  if (!state) throw new AppError('not_found', `no node "${id}"`);
  return c.html(<NodeStatusPanel page={await adminPage(c)} state={state} now={Date.now()} healthyMs={c.var.config.nodes.healthyMs} />);
});

adminNodes.post('/:id', async (c) => {
  const id = c.req.param('id');
  const values = { ...formValues(await c.req.parseBody()), id };
  const r = await saving(() => updateNodeCommand(c.var.db, c.var.notifier, id, nodeInputFromForm(values, false), Date.now(), auditContext(c)), values);
  if (r.ok) return c.redirect(nodeHref(id), 303);
  return detailPage(c, id, { values, errors: r.errors }, r.status);
});

/** The token is shown in this response only: it must not be kept by any cache or history. */
adminNodes.post('/:id/enroll', async (c) => {
  const id = c.req.param('id');
  const { token, expiresAt } = await startEnrollment(c.var.db, id, Date.now(), auditContext(c));
  const origin = new URL(c.req.url).origin;
  c.header('Cache-Control', 'no-store');
  return detailPage(c, id, { enrollment: { command: `edgeport-agent enroll --portal ${origin} --node ${id} --token ${token}`, expiresAt } });
});

adminNodes.post('/:id/revoke', async (c) => {
  const id = c.req.param('id');
  await revokeNode(c.var.db, id, Date.now(), auditContext(c));
  await disconnect(c, id, 'this node was revoked by an administrator');
  return c.redirect('/admin/nodes', 303);
});

adminNodes.post('/:id/delete', async (c) => {
  const id = c.req.param('id');
  await deleteNodeCommand(c.var.db, c.var.notifier, id, Date.now(), auditContext(c));
  // deleteNodeCommand leaves cutting the channel to the route: the node is gone, so is its link.
  await disconnect(c, id, 'this node was deleted by an administrator');
  return c.redirect('/admin/nodes', 303);
});
