import type { Logger } from './backends/types.ts';

// Field names whose values are secrets: they are replaced, whatever code logs them.
const SECRET = /credential|token|private|secret|password|tls_crypt|key$/i;

function redact(value: unknown, depth = 0): unknown {
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET.test(k) && k !== 'public_key' && k !== 'publicKey' ? '[redacted]' : redact(v, depth + 1);
  return out;
}

/** JSON lines on stdout (journald keeps them); secrets in known fields never reach the log. */
export function jsonLogger(write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  const emit = (level: string, msg: string, fields?: Record<string, unknown>) =>
    write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...(fields ? (redact(fields) as object) : {}) })}\n`);
  return {
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}
