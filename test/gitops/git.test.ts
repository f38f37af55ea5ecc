// Committing the release to Git, against a real Git server on loopback (git http-backend over
// HTTPS with basic auth): one commit that changes the image line and nothing else, idempotent,
// rebased when someone pushed meanwhile, refused with the reason when it cannot be pushed, and
// the token never in an error.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitImage, GitError, validGitUrl, validRepoPath } from '../../src/gitops/git.js';
import { setImage } from '../../src/gitops/image-edit.js';
import { type GitServer, startGitServer } from '../helpers/git-server.js';

const REPO = 'registry.example.com/shop/checkout';
const MANIFEST = `# checkout, production
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
spec:
  template:
    spec:
      containers:
        - name: app
          image: "${REPO}:v1.2.2" # bumped by the release train
        - name: sidecar
          image: registry.example.com/shop/envoy:1.30
`;

describe('setImage', () => {
  it('changes only the image line, keeping quotes and comments', () => {
    const r = setImage(MANIFEST, REPO, `${REPO}:v1.2.3`);
    expect(r).toMatchObject({ ok: true, changed: 1 });
    if (!r.ok) return;
    expect(r.text).toBe(MANIFEST.replace(`${REPO}:v1.2.2`, `${REPO}:v1.2.3`));
    expect(setImage(r.text, REPO, `${REPO}:v1.2.3`)).toMatchObject({ ok: true, changed: 0 });
  });
  it('refuses a file without the image, and an image of another repository', () => {
    expect(setImage('kind: Service\n', REPO, `${REPO}:v1`)).toMatchObject({ ok: false });
    expect(setImage(MANIFEST, REPO, 'evil.example.com/x:1')).toMatchObject({ ok: false });
  });
  it('accepts only Git URLs and paths inside the repository', () => {
    expect(validGitUrl('https://github.com/acme/deploy.git')).toBe(true);
    expect(validGitUrl('git@github.com:acme/deploy.git')).toBe(true);
    expect(validGitUrl('--upload-pack=touch /tmp/x')).toBe(false);
    expect(validGitUrl('file:///etc')).toBe(false);
    expect(validRepoPath('apps/checkout/deployment.yaml')).toBe(true);
    expect(validRepoPath('../../etc/passwd')).toBe(false);
    expect(validRepoPath('/etc/passwd')).toBe(false);
  });
});

describe('commitImage against a Git server', () => {
  let git: GitServer;
  beforeAll(async () => {
    git = await startGitServer();
  });
  afterAll(async () => {
    await git?.close();
  });
  const creds = () => ({ SHIPBOT_GIT_TOKEN: git.token, SHIPBOT_GIT_USERNAME: git.user });
  const target = (name: string) => ({ url: git.url(name), branch: 'main', path: 'production/checkout.yaml' });

  it('pushes one commit with the new image; a second call commits nothing', async () => {
    git.createRepo('one', { 'production/checkout.yaml': MANIFEST });
    const r = await commitImage(target('one'), REPO, `${REPO}:v1.2.3`, 'shipbot: checkout v1.2.3 (run r-1, by alice)', creds(), {
      baseEnv: git.env,
    });
    expect(r).toMatchObject({ committed: true, rebases: 0 });
    expect(git.show('one', 'production/checkout.yaml')).toBe(MANIFEST.replace(':v1.2.2"', ':v1.2.3"'));
    expect(git.log('one')).toEqual(['shipbot: checkout v1.2.3 (run r-1, by alice)', 'initial']);
    const again = await commitImage(target('one'), REPO, `${REPO}:v1.2.3`, 'again', creds(), { baseEnv: git.env });
    expect(again).toMatchObject({ committed: false, sha: r.sha });
    expect(git.log('one')).toHaveLength(2);
  });

  it('a push that lost a race is rebased on what the teammate pushed, and retried', async () => {
    git.createRepo('race', { 'production/checkout.yaml': MANIFEST, 'README.md': 'hello\n' });
    git.raceNextPush('race', 'README.md', 'hello again\n', 'docs: teammate');
    const r = await commitImage(target('race'), REPO, `${REPO}:v1.2.3`, 'shipbot: checkout v1.2.3', creds(), { baseEnv: git.env });
    expect(r).toMatchObject({ committed: true, rebases: 1 });
    expect(git.log('race')).toEqual(['shipbot: checkout v1.2.3', 'docs: teammate', 'initial']);
    expect(git.show('race', 'README.md')).toBe('hello again\n');
    expect(git.show('race', 'production/checkout.yaml')).toContain(`${REPO}:v1.2.3`);
  });

  it('says why when the repository refuses pushes, and never shows the token', async () => {
    git.createRepo('locked', { 'production/checkout.yaml': MANIFEST });
    git.refusePushes(true);
    try {
      const err = await commitImage(target('locked'), REPO, `${REPO}:v1.2.3`, 'm', creds(), { baseEnv: git.env, attempts: 2 }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(GitError);
      expect((err as GitError).kind).toBe('rejected');
      expect((err as Error).message).toMatch(/refused 2 times/);
      expect((err as Error).message).not.toContain(git.token);
    } finally {
      git.refusePushes(false);
    }
    expect(git.log('locked')).toEqual(['initial']);
  });

  it('takes the token from a mounted file too', async () => {
    git.createRepo('file', { 'production/checkout.yaml': MANIFEST });
    const dir = mkdtempSync(path.join(tmpdir(), 'shipbot-token-'));
    writeFileSync(path.join(dir, 'token'), `${git.token}\n`);
    try {
      const r = await commitImage(
        target('file'),
        REPO,
        `${REPO}:v1.2.3`,
        'm',
        { SHIPBOT_GIT_TOKEN_FILE: path.join(dir, 'token'), SHIPBOT_GIT_USERNAME: git.user },
        { baseEnv: git.env },
      );
      expect(r.committed).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a wrong token is a clear failure, not a hang', async () => {
    git.createRepo('auth', { 'production/checkout.yaml': MANIFEST });
    const err = await commitImage(target('auth'), REPO, `${REPO}:v1.2.3`, 'm', { SHIPBOT_GIT_TOKEN: 'wrong' }, { baseEnv: git.env }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GitError);
    expect((err as Error).message).toMatch(/git clone/);
  });
});
