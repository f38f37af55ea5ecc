// pino with secrets redacted. One child logger per run: `log.child({ runId })`.
// Errors go through pino's `err` serializer (pass the Error, not its message: the stack is kept).
// Every logged value is scrubbed on the way out: a token inside any string (xoxb-, xapp-,
// sk-ant-, bearer tokens, the sandbox's), and any key that names a secret, in any case
// (`Authorization`, `headers.AUTHORIZATION`, `x-api-key`…).
import pino, { type Logger } from 'pino';
import { scrubDeep, scrubSecrets } from './domain/redact.js';

/** Masks anything that looks like a token, key or password inside free text (domain/redact.ts). */
export { scrubSecrets };

/** A copy of `value` with secret keys censored and every string scrubbed (cycles and depth bounded). */
export function scrubValue(value: unknown): unknown {
  // pino's formatters see an Error before its serializer does: keep its type, message, stack and code.
  return scrubDeep(value, 0, new WeakSet(), (o) => (o instanceof Error ? pino.stdSerializers.err(o) : o));
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
