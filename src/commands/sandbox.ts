// `shipbot sandbox [--port N] [--context NAME]`: only the sandbox cluster, with the demo workload,
// until Ctrl-C. Serves HTTPS and wants its token, as an API server does; the kubeconfig carries both.
import path from 'node:path';
import { ScaledClock } from '../clock.js';
import { readEnv } from '../config.js';
import { createLogger } from '../log.js';
import { sandboxTraffic, startSandbox } from '../sandbox/index.js';

/** `--context NAME`: the kubeconfig context to write (default `sandbox`), for a second sandbox beside the first. */
function parseContext(args: string[]): string | undefined {
  const i = args.findIndex((a) => a === '--context' || a.startsWith('--context='));
  if (i < 0) return undefined;
  const raw = args[i]!.includes('=') ? args[i]!.split('=')[1] : args[i + 1];
  return raw && /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(raw) ? raw : '';
}

function parsePort(args: string[]): number | string {
  const i = args.findIndex((a) => a === '--port' || a.startsWith('--port='));
  if (i < 0) return 0;
  const raw = args[i]!.includes('=') ? args[i]!.split('=')[1] : args[i + 1];
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return `--port needs a number from 0 to 65535, got '${raw ?? ''}'`;
  return port;
}

export async function run(args: string[]): Promise<number> {
  const port = parsePort(args);
  if (typeof port === 'string') {
    console.error(`shipbot sandbox: ${port}`);
    return 1;
  }
  const context = parseContext(args);
  if (context === '') {
    console.error('shipbot sandbox: --context needs a name of letters, digits, ".", "_" or "-"');
    return 1;
  }
  const env = readEnv();
  const clock = new ScaledClock(env.SHIPBOT_SPEED ?? 1);
  const logger = createLogger(env.LOG_LEVEL);
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  try {
    sandbox = await startSandbox({ port, clock, demo: true, warm: true, logger, ...sandboxTraffic(env) });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    console.error(
      code === 'EADDRINUSE'
        ? `shipbot sandbox: port ${port} is already in use; pick another with --port N (or --port 0 for any free port)`
        : `shipbot sandbox: could not start: ${(err as Error).message}`,
    );
    return 1;
  }
  const kubeconfig = path.join(env.SHIPBOT_DATA_DIR, 'sandbox.kubeconfig');
  sandbox.writeKubeconfig(kubeconfig, context);
  console.log(`Sandbox Kubernetes API: ${sandbox.url}  (clock speed ${clock.speed}x)`);
  console.log(`Kubeconfig written to ${kubeconfig}`);
  console.log(`Try: kubectl --kubeconfig ${kubeconfig} get deploy -A`);
  console.log(`Metrics: ${sandbox.url}/sandbox/v1/overview   Prometheus targets: ${sandbox.url}/sandbox/v1/targets`);
  console.log('Press Ctrl-C to stop.');
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await sandbox.close();
  console.log('\nSandbox stopped.');
  return 0;
}
