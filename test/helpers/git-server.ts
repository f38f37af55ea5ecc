// A real Git server on loopback for tests: git's own `git http-backend` (smart HTTP, as GitHub and
// GitLab speak it) behind an HTTPS server with basic auth, serving bare repositories from a temp
// directory. Clients trust it through GIT_SSL_CAINFO (the sandbox's CA).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sandboxTls } from '../../src/sandbox/tls.js';

const BACKEND = '/usr/lib/git-core/git-http-backend';

export interface GitServer {
  /** `https://127.0.0.1:PORT/<name>.git` */
  url(name: string): string;
  /** Environment for git clients: trusts the server's CA. */
  env: NodeJS.ProcessEnv;
  /** The same, with the credentials too (what a reconciler's repository secret gives it). */
  readerEnv: NodeJS.ProcessEnv;
  user: string;
  token: string;
  /** Creates a bare repository with `files` committed on `main`. */
  createRepo(name: string, files: Record<string, string>): void;
  /** A commit by someone else on `main` (for push conflicts). */
  commitAs(name: string, file: string, content: string, message: string): void;
  /** The content of `file` on `main`, and the log's subjects, newest first. */
  show(name: string, file: string): string;
  log(name: string): string[];
  /** The next push to `name` finds that a teammate pushed `file` just before it (a push race). */
  raceNextPush(name: string, file: string, content: string, message: string): void;
  /** Refuse every push from now on (an unpushable repository). */
  refusePushes(on: boolean): void;
  close(): Promise<void>;
}

export async function startGitServer(): Promise<GitServer> {
  const root = mkdtempSync(path.join(tmpdir(), 'shipbot-gitsrv-'));
  const tls = await sandboxTls();
  const caFile = path.join(root, 'ca.pem');
  writeFileSync(caFile, tls.caPem);
  const user = 'deployer';
  const token = `tok-${Math.random().toString(36).slice(2)}`;
  let refuse = false;
  const races = new Map<string, () => void>();
  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const auth = req.headers.authorization ?? '';
    const given = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString() : '';
    if (given !== `${user}:${token}`) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' }).end();
      req.resume();
      return;
    }
    const url = new URL(req.url ?? '/', 'https://git');
    if (refuse && (url.pathname.endsWith('/git-receive-pack') || url.searchParams.get('service') === 'git-receive-pack')) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('pushes are disabled on this repository\n');
      req.resume();
      return;
    }
    const race = [...races.entries()].find(([name]) => url.pathname === `/${name}.git/git-receive-pack`);
    if (race && req.method === 'POST') {
      races.delete(race[0]);
      race[1]();
    }
    const cgi = spawn(BACKEND, [], {
      env: {
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        REMOTE_USER: user,
        REMOTE_ADDR: '127.0.0.1',
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
      },
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString().split('\r\n')) {
        const i = line.indexOf(':');
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (k.toLowerCase() === 'status') status = Number.parseInt(v, 10);
        else headers[k] = v;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
    });
    cgi.stdout.on('end', () => res.end());
    cgi.on('error', () => res.writeHead(500).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=Teammate', '-c', 'user.email=teammate@example.com', ...args], { cwd, encoding: 'utf8' });
  const bare = (name: string) => path.join(root, `${name}.git`);
  const work = (name: string) => {
    const dir = mkdtempSync(path.join(root, `w-${name}-`));
    git(dir, 'clone', '--quiet', bare(name), '.');
    return dir;
  };
  const commitAs = (name: string, file: string, content: string, message: string) => {
    const dir = work(name);
    writeFileSync(path.join(dir, file), content);
    git(dir, 'commit', '--quiet', '-am', message);
    git(dir, 'push', '--quiet', 'origin', 'main');
  };
  return {
    url: (name) => `https://127.0.0.1:${port}/${name}.git`,
    env: { ...process.env, GIT_SSL_CAINFO: caFile },
    readerEnv: {
      ...process.env,
      GIT_SSL_CAINFO: caFile,
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraHeader',
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`,
    },
    user,
    token,
    createRepo(name, files) {
      execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch', 'main', bare(name)]);
      execFileSync('git', ['-C', bare(name), 'config', 'http.receivepack', 'true']);
      const dir = mkdtempSync(path.join(root, `init-${name}-`));
      git(dir, 'init', '--quiet', '--initial-branch', 'main');
      for (const [f, content] of Object.entries(files)) {
        execFileSync('mkdir', ['-p', path.dirname(path.join(dir, f))]);
        writeFileSync(path.join(dir, f), content);
      }
      git(dir, 'add', '.');
      git(dir, 'commit', '--quiet', '-m', 'initial');
      git(dir, 'push', '--quiet', bare(name), 'main');
    },
    commitAs,
    show: (name, file) => execFileSync('git', ['-C', bare(name), 'show', `main:${file}`], { encoding: 'utf8' }),
    log: (name) =>
      execFileSync('git', ['-C', bare(name), 'log', '--format=%s', 'main'], { encoding: 'utf8' })
        .trim()
        .split('\n'),
    raceNextPush(name, file, content, message) {
      races.set(name, () => commitAs(name, file, content, message));
    },
    refusePushes(on) {
      refuse = on;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
