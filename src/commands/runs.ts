// `shipbot runs [--service S] [--status S] [--limit N]`: lists deployment runs, newest first.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { readEnv } from '../config.js';
import { openRunStore } from '../store/index.js';
import { outcomeOf } from '../domain/run.js';

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function run(args: string[]): Promise<number> {
  const env = readEnv();
  const file = path.join(path.resolve(env.SHIPBOT_DATA_DIR), 'shipbot.db');
  if (!env.SHIPBOT_DATABASE_URL && !existsSync(file)) {
    console.log(`No runs yet (${file} does not exist). Start one with: shipbot deploy "<request>"`);
    return 0;
  }
  const store = await openRunStore(env.SHIPBOT_DATABASE_URL, file);
  try {
    const limit = Number(flag(args, '--limit') ?? 50);
    const status = flag(args, '--status');
    const service = flag(args, '--service');
    const runs = await store.listRuns({
      limit: Number.isFinite(limit) && limit > 0 ? limit : 50,
      ...(status ? { status: [status] } : {}),
      ...(service ? { service } : {}),
    });
    if (!runs.length) {
      console.log('No runs match.');
      return 0;
    }
    const rows = runs.map((r) => [
      r.id,
      new Date(r.createdAt).toISOString().replace('T', ' ').slice(0, 16),
      r.service,
      r.environment,
      r.version,
      r.strategy,
      r.phase.status,
      outcomeOf(r) ?? r.stage ?? '',
    ]);
    const head = ['run', 'created (UTC)', 'service', 'env', 'version', 'strategy', 'status', 'outcome'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => Math.min(r[i]!.length, i === 7 ? 80 : 40))));
    const line = (c: string[]) =>
      c
        .map((s, i) => (i === 7 ? s.slice(0, 80) : s.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd();
    console.log(line(head));
    for (const r of rows) console.log(line(r));
    return 0;
  } finally {
    await store.close();
  }
}
