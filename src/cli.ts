// `shipbot <command>`: each command lives in src/commands/<name>.ts and exports `run(args)`,
// which returns the process exit code. Loaded lazily so `shipbot parse` stays fast.
import { ConfigError } from './config.js';

type Command = { summary: string; load: () => Promise<{ run(args: string[]): Promise<number> }> };

const COMMANDS: Record<string, Command> = {
  start: { summary: 'run Shipbot (local workspace without Slack tokens) [--sandbox]', load: () => import('./commands/start.js') },
  sandbox: { summary: 'run only the sandbox cluster [--port N] [--context NAME]', load: () => import('./commands/sandbox.js') },
  deploy: { summary: 'deploy "<request>" [--yes] [--answers file.json] [--sandbox]', load: () => import('./commands/deploy.js') },
  parse: { summary: 'parse "<text>": print the understood request as JSON', load: () => import('./commands/parse.js') },
  'check-config': { summary: 'check-config [file]: validate data/shipbot.yml', load: () => import('./commands/check-config.js') },
  runs: { summary: 'list deployment runs', load: () => import('./commands/runs.js') },
  report: { summary: 'report <run-id>: print a run report', load: () => import('./commands/report.js') },
  bench: { summary: 'run the benchmarks', load: () => import('./commands/bench.js') },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return ['usage: shipbot <command> [options]', '', ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(width)}  ${c.summary}`)].join(
    '\n',
  );
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage());
    return name ? 0 : 1;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`shipbot: unknown command '${name}'\n\n${usage()}`);
    return 1;
  }
  try {
    return await (await command.load()).run(args);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`shipbot: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
