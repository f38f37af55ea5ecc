// `shipbot start [--sandbox] [--port N]`: what `npm start` runs. Starts everything (see
// src/main.ts), then waits for Ctrl-C / SIGTERM and shuts down cleanly; a second signal exits at once.
import { parseArgs } from 'node:util';
import { startShipbot } from '../main.js';

const USAGE = 'usage: shipbot start [--sandbox] [--port N] [--as <Slack user id>]';

export function parseStartArgs(args: string[]): { sandbox: boolean; port?: number; as?: string } | { error: string } {
  let values: { sandbox?: boolean; port?: string; as?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: { sandbox: { type: 'boolean' }, port: { type: 'string' }, as: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return { error: `${(err as Error).message}\n${USAGE}` };
  }
  if (values.as !== undefined && !/^[A-Z0-9_]{2,32}$/.test(values.as))
    return { error: `--as takes a Slack user id (like U123ABC), got '${values.as}'\n${USAGE}` };
  const as = values.as !== undefined ? { as: values.as } : {};
  if (values.port === undefined) return { sandbox: !!values.sandbox, ...as };
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    return { error: `--port must be a port number (0–65535), got '${values.port}'\n${USAGE}` };
  return { sandbox: !!values.sandbox, port, ...as };
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseStartArgs(args);
  if ('error' in parsed) {
    console.error(`shipbot start: ${parsed.error}`);
    return 1;
  }
  // No single request may end the process: a failure that escaped its own handler is logged and
  // that request alone is lost (runs are saved before every cluster change, so none is).
  const guard = (kind: string) => (err: unknown) =>
    console.error(`shipbot: ${kind} (kept running): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.on('unhandledRejection', guard('unhandled rejection'));
  process.on('uncaughtException', guard('uncaught exception'));
  let shipbot: Awaited<ReturnType<typeof startShipbot>>;
  try {
    shipbot = await startShipbot({ sandbox: parsed.sandbox, port: parsed.port, ...(parsed.as ? { as: parsed.as } : {}) });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      console.error(
        `shipbot start: port ${parsed.port ?? process.env.PORT ?? 3000} is in use. Stop what uses it, or pick another: npm start -- --port 3001`,
      );
      return 1;
    }
    throw err;
  }
  const signal = await new Promise<NodeJS.Signals | { fatal: string }>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
    void shipbot.fatal.then((reason) => resolve({ fatal: reason }));
  });
  if (typeof signal === 'object') {
    // The database cannot be written: stop, say why, and exit non-zero so a supervisor sees it.
    console.error(`shipbot: stopping: ${signal.fatal}`);
    await shipbot.stop();
    return 1;
  }
  console.log(`\n  ${signal}: stopping Shipbot (runs in flight resume at the next start; press Ctrl-C again to quit at once)…`);
  const force = () => process.exit(130);
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  await shipbot.stop();
  return 0;
}
