// The children of `npm start`, stopped together on SIGINT, SIGTERM or any exit, at any moment of
// start-up. Everything after the first child runs asynchronously: a signal that arrives while a
// synchronous child runs waits until it returns, and the script used to exit from there (the
// child failed of the same signal) without stopping `wrangler dev`, leaving it on the port.
import { spawn } from 'node:child_process';

/** How long a child may take to stop after SIGTERM before it gets SIGKILL. */
const STOP_GRACE_MS = 5_000;

const children = new Set();
let stopping = null;

function signal(child, sig) {
  try {
    // A child started in its own process group (wrangler dev and its workerd) is stopped as a group.
    if (child.group) process.kill(-child.proc.pid, sig);
    else child.proc.kill(sig);
  } catch {}
}

/** Starts a child that lives until `stopAll`; `group`: in its own process group, stopped as one. */
export function startChild(cmd, args, opts = {}, group = false) {
  const proc = spawn(cmd, args, { ...opts, detached: group });
  const child = { proc, group, exited: new Promise((resolve) => proc.once('exit', (code, sig) => resolve(code ?? sig))) };
  children.add(child);
  child.exited.then(() => children.delete(child));
  proc.once('error', (err) => console.error(`✗ ${cmd}: ${err.message}`));
  return proc;
}

/** Runs a command to its end (tracked, so a signal meanwhile stops it too): its exit code, stdout and stderr. */
export function runChild(cmd, args, opts = {}) {
  const proc = startChild(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => proc.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** True once a stop began: children exiting then are expected, not a failure to report. */
export const isStopping = () => stopping !== null;

/** SIGTERM to every child, SIGKILL to what is left after the grace; resolves when all are gone. */
export function stopAll() {
  stopping ??= (async () => {
    const left = [...children];
    for (const c of left) signal(c, 'SIGTERM');
    const timer = setTimeout(() => left.forEach((c) => signal(c, 'SIGKILL')), STOP_GRACE_MS);
    await Promise.all(left.map((c) => c.exited));
    clearTimeout(timer);
  })();
  return stopping;
}

/** Installs the handlers: a signal stops every child, then exits; a plain exit still signals them. */
export function stopChildrenOnExit() {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      stopAll().then(() => process.exit(sig === 'SIGINT' ? 130 : 143));
    });
  }
  // An exit from anywhere else (an error, process.exit): nothing async runs any more, so at least
  // the signal goes out; wrangler and the agent stop themselves on SIGTERM.
  process.once('exit', () => children.forEach((c) => signal(c, 'SIGTERM')));
}
