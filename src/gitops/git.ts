// Git as teams have it, through the git CLI (never a shell): HTTPS with a token from
// SHIPBOT_GIT_TOKEN, or from the file SHIPBOT_GIT_TOKEN_FILE names (a mounted Secret, read at each
// use so a rotated token is picked up; user SHIPBOT_GIT_USERNAME, default x-access-token), or SSH
// with the key in SHIPBOT_GIT_SSH_KEY_FILE. The token travels in git's environment (an http.extraHeader given
// through GIT_CONFIG_*), never in argv, a URL, a log line or an error message.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { scrubSecrets } from '../domain/redact.js';
import { setImage } from './image-edit.js';

export interface GitCredentials {
  SHIPBOT_GIT_TOKEN?: string;
  SHIPBOT_GIT_TOKEN_FILE?: string;
  SHIPBOT_GIT_USERNAME?: string;
  SHIPBOT_GIT_SSH_KEY_FILE?: string;
}

export interface GitTarget {
  url: string;
  branch: string;
  /** The file, inside the repository, that names the image. */
  path: string;
}

export class GitError extends Error {
  constructor(
    message: string,
    /** The remote moved and a rebase could not settle it, or it refuses pushes: a person looks. */
    readonly kind: 'rejected' | 'failed' | 'no-image',
  ) {
    super(message);
    this.name = 'GitError';
  }
}

/** https://…, ssh://… or git@host:path; nothing that git could read as an option. */
export function validGitUrl(url: string): boolean {
  return /^(https:\/\/|ssh:\/\/|http:\/\/(127\.0\.0\.1|localhost)[:/])[^\s]+$/.test(url) || /^[\w.-]+@[\w.-]+:[\w./~-]+$/.test(url);
}

/** A repository path of the file: relative, no `..`. */
export function validRepoPath(p: string): boolean {
  return p.length > 0 && !p.startsWith('/') && !p.startsWith('-') && !p.split('/').includes('..');
}

function gitEnv(creds: GitCredentials, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true' };
  if (creds.SHIPBOT_GIT_TOKEN) {
    const user = creds.SHIPBOT_GIT_USERNAME || 'x-access-token';
    const basic = Buffer.from(`${user}:${creds.SHIPBOT_GIT_TOKEN}`).toString('base64');
    Object.assign(env, {
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraHeader',
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
    });
  }
  if (creds.SHIPBOT_GIT_SSH_KEY_FILE)
    env.GIT_SSH_COMMAND = `ssh -i '${creds.SHIPBOT_GIT_SSH_KEY_FILE.replace(/'/g, '')}' -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new`;
  return env;
}

function run(args: string[], cwd: string | undefined, env: NodeJS.ProcessEnv, secret?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, env, timeout: 60_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout.trim());
      let text = scrubSecrets(`${stderr || err.message}`.trim());
      if (secret) text = text.split(secret).join('[redacted]');
      reject(new GitError(`git ${args[0]}: ${text.split('\n').slice(-3).join(' ')}`, 'failed'));
    });
  });
}

export interface CommitResult {
  /** The commit Git now holds for the release (the new one, or the one already there). */
  sha: string;
  /** False when Git already named the image (a resumed run after its push). */
  committed: boolean;
  /** How many times the push was retried after the remote moved. */
  rebases: number;
}

/**
 * Makes the file at `target.path` on `target.branch` name `image` (of repository `repo`), in one
 * commit pushed to the remote. A push rejected because Git moved is rebased and retried; if it
 * still cannot be pushed, a GitError of kind 'rejected' says why. Idempotent: when the branch
 * already names the image, nothing is committed.
 */
export async function commitImage(
  target: GitTarget,
  repo: string,
  image: string,
  message: string,
  creds: GitCredentials,
  opts: { attempts?: number; baseEnv?: NodeJS.ProcessEnv } = {},
): Promise<CommitResult> {
  if (!validGitUrl(target.url))
    throw new GitError(`'${target.url}' is not a Git URL Shipbot accepts (https://, ssh:// or git@host:path)`, 'failed');
  if (!validRepoPath(target.path)) throw new GitError(`'${target.path}' is not a path inside the repository`, 'failed');
  const token =
    creds.SHIPBOT_GIT_TOKEN ?? (creds.SHIPBOT_GIT_TOKEN_FILE ? (await readFile(creds.SHIPBOT_GIT_TOKEN_FILE, 'utf8')).trim() : undefined);
  const env = gitEnv({ ...creds, ...(token ? { SHIPBOT_GIT_TOKEN: token } : {}) }, opts.baseEnv);
  const secret = token;
  const dir = await mkdtemp(path.join(tmpdir(), 'shipbot-git-'));
  try {
    await run(['clone', '--quiet', '--depth', '20', '--branch', target.branch, '--', target.url, dir], undefined, env, secret);
    const git = (...args: string[]) =>
      run(['-c', 'user.name=Shipbot', '-c', 'user.email=shipbot@users.noreply.local', ...args], dir, env, secret);
    const file = path.join(dir, target.path);
    const attempts = opts.attempts ?? 3;
    for (let attempt = 0; ; attempt++) {
      const edit = setImage(await readFile(file, 'utf8').catch(() => ''), repo, image);
      if (!edit.ok) throw new GitError(`${target.path} on ${target.branch}: ${edit.reason}`, 'no-image');
      if (edit.changed === 0) return { sha: await git('rev-parse', 'HEAD'), committed: false, rebases: attempt };
      await writeFile(file, edit.text);
      await git('commit', '--quiet', '-m', message, '--', target.path);
      try {
        await git('push', '--quiet', 'origin', `HEAD:refs/heads/${target.branch}`);
        return { sha: await git('rev-parse', 'HEAD'), committed: true, rebases: attempt };
      } catch (err) {
        if (attempt + 1 >= attempts)
          throw new GitError(`the push to ${target.branch} was refused ${attempts} times: ${(err as Error).message}`, 'rejected');
        // Someone committed meanwhile: start again from what the remote holds now.
        await git('fetch', '--quiet', 'origin', target.branch);
        await git('reset', '--quiet', '--hard', 'FETCH_HEAD');
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
