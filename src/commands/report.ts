// `shipbot report <run-id> [--incident]`: prints a run's Markdown report.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readEnv } from '../config.js';
import { renderReport, deterministicLessons, renderIncident } from '../reports/report.js';
import { openRunStore } from '../store/index.js';
import { isEnded, rollbackOf } from '../domain/run.js';

export async function run(args: string[]): Promise<number> {
  const id = args.find((a) => !a.startsWith('-'));
  if (!id) {
    console.error('usage: shipbot report <run-id> [--incident]   (shipbot runs lists the ids)');
    return 1;
  }
  const env = readEnv();
  const file = path.join(path.resolve(env.SHIPBOT_DATA_DIR), 'shipbot.db');
  if (!env.SHIPBOT_DATABASE_URL && !existsSync(file)) {
    console.error(`No runs yet: ${file} does not exist.`);
    return 1;
  }
  const store = await openRunStore(env.SHIPBOT_DATABASE_URL, file);
  try {
    const rec = (await store.getRun(id)) ?? (await store.listRuns()).find((r) => r.id.startsWith(id));
    if (!rec) {
      console.error(`No run ${id}. \`shipbot runs\` lists them.`);
      return 1;
    }
    const incident = args.includes('--incident');
    const written = isEnded(rec.phase) ? rec.phase.report : undefined;
    const onDisk = incident ? written?.incident : written?.path;
    if (onDisk && existsSync(onDisk)) {
      process.stdout.write(readFileSync(onDisk, 'utf8'));
      return 0;
    }
    if (incident && !rollbackOf(rec)) {
      console.error(`Run ${rec.id} did not roll back: it has no incident report.`);
      return 1;
    }
    // Not written yet (still running) or the file was removed: render from the record.
    const audit = await store.auditTrail(rec.id);
    process.stdout.write(incident ? renderIncident(rec, audit) : renderReport(rec, audit, deterministicLessons(rec)));
    return 0;
  } finally {
    await store.close();
  }
}
