// A real Postgres (Debian's postgresql package) on loopback, started for the tests in a
// directory of their own and removed after. Postgres refuses to run as root: as root, it runs as
// the package's `postgres` user.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './net.js';

function binDir(): string | undefined {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => path.join(root, v, 'bin')).find((d) => existsSync(path.join(d, 'postgres')));
}

const BIN = binDir();
export const havePostgres = Boolean(BIN);
export const NO_POSTGRES = 'Postgres is not installed (apt-get install postgresql; .ci/run does)';

function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

export interface Postgres {
  /** A new, empty database on this server: its URL. */
  database(): Promise<string>;
  /** The server's log so far: with `logWrites`, every INSERT, UPDATE and DELETE, each line `[application_name]`. */
  log(): string;
  close(): Promise<void>;
}

export async function startPostgres(opts: { logWrites?: boolean } = {}): Promise<Postgres> {
  if (!BIN) throw new Error(NO_POSTGRES);
  const dir = mkdtempSync(path.join(tmpdir(), 'shipbot-pg-'));
  const user = runAs();
  if (user) {
    chmodSync(dir, 0o700);
    chownSync(dir, user.uid, user.gid);
  }
  const as = user ? { uid: user.uid, gid: user.gid } : {};
  const data = path.join(dir, 'data');
  execFileSync(path.join(BIN, 'initdb'), ['-D', data, '-U', 'shipbot', '--auth=trust', '-E', 'UTF8', '--no-sync'], {
    ...as,
    stdio: 'pipe',
  });
  const port = await freePort();
  let log = '';
  const child: ChildProcess = spawn(
    path.join(BIN, 'postgres'),
    [
      ...['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-k', dir, '-c', 'fsync=off', '-c', 'max_connections=200'],
      ...(opts.logWrites ? ['-c', 'log_statement=mod', '-c', 'log_line_prefix=[%a] '] : []),
    ],
    { ...as, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d) => (log += d));
  child.stderr?.on('data', (d) => (log += d));
  const admin = `postgres://shipbot@127.0.0.1:${port}/postgres`;
  const end = Date.now() + 30_000;
  for (;;) {
    const c = new pg.Client({ connectionString: admin });
    const up = await c.connect().then(
      () => true,
      () => false,
    );
    await c.end().catch(() => undefined);
    if (up) break;
    if (Date.now() > end || child.exitCode !== null) throw new Error(`Postgres did not start:\n${log.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  let n = 0;
  return {
    async database() {
      const name = `shipbot_${process.pid}_${++n}`;
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`CREATE DATABASE ${name}`);
      await c.end();
      return `postgres://shipbot@127.0.0.1:${port}/${name}`;
    },
    log: () => log,
    async close() {
      child.kill('SIGINT'); // fast shutdown
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}
