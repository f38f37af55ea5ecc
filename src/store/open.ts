// Which engine this process uses: Postgres when SHIPBOT_DATABASE_URL names one (replicas share
// it), else SQLite in the data directory (one process, the embedded default).
import { PgStore } from './pg-store.js';
import type { Store } from './run-store.js';
import { openStore } from './store.js';

export function openRunStore(databaseUrl: string | undefined, sqliteFile: string): Promise<Store> {
  return databaseUrl ? PgStore.open(databaseUrl) : Promise.resolve(openStore(sqliteFile));
}
