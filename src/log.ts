// pino with secrets redacted. One child logger per run: `log.child({ runId })`.
// Errors go through pino's `err` serializer (pass the Error, not its message: the stack is kept).
// Every logged value is scrubbed on the way out: a token inside any string (xoxb-, xapp-,
// sk-ant-, bearer tokens, the sandbox's), and any key that names a secret, in any case
// (`Authorization`, `headers.AUTHORIZATION`, `x-api-key`…).
import pino, { type Logger } from 'pino';

const SECRET_KEY =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api[-_]?key|apikey|token|bottoken|apptoken|signingsecret|.*_token|.*_secret|.*_api_key|password|credentials)$/i;
const CENSOR = '[redacted]';

/** Masks anything that looks like a Slack, Anthropic, bearer or sandbox token inside free text. */
export function scrubSecrets(text: string): string {
  return text
    .replace(/\bxox[abposr]-[A-Za-z0-9-]+/g, 'xox?-[redacted]')
    .replace(/\bxapp-[A-Za-z0-9-]+/g, 'xapp-[redacted]')
    .replace(/\bsk-ant-[A-Za-z0-9_-]+/g, 'sk-ant-[redacted]')
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]')
    .replace(/\bsandbox-[A-Za-z0-9_-]{20,}/g, 'sandbox-[redacted]');
}

/** A copy of `value` with secret keys censored and every string scrubbed (cycles and depth bounded). */
export function scrubValue(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8 || seen.has(value)) return '[…]';
  seen.add(value);
  // pino's formatters see an Error before its serializer does: keep its type, message, stack and code.
  const plain: object = value instanceof Error ? pino.stdSerializers.err(value) : value;
  if (Array.isArray(plain)) return plain.map((v) => scrubValue(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(plain))
    out[k] = SECRET_KEY.test(k) && v !== undefined && v !== null ? CENSOR : scrubValue(v, depth + 1, seen);
  return out;
}

export function createLogger(level = process.env.LOG_LEVEL ?? 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      // Errors arrive here already as plain objects (formatters.log, above, ran first).
      serializers: { err: (e: unknown) => (e instanceof Error ? pino.stdSerializers.err(e) : e) },
      formatters: { log: (obj) => scrubValue(obj) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? scrubSecrets(a) : a)) as Parameters<typeof method>);
        },
      },
    },
    destination ?? pino.destination(2),
  );
}

export type { Logger };
