// A GitOps world for tests: a real Git server on loopback, and the runner world on a sandbox
// whose reconciler stand-ins read it, with the checkout service's production owned as `gitops`
// says.
import type { GitopsConfig, ShipbotConfig } from '../../src/config.js';
import { FINAL_STATUSES } from '../../src/domain/run.js';
import { type GitServer, startGitServer } from '../helpers/git-server.js';
import { startWorld, withoutStaging, type World } from '../runner/world.js';

export const REPO = 'registry.example.com/shop/checkout';

export async function startGitopsWorld(
  owner: Omit<GitopsConfig, 'git'>,
  base: ShipbotConfig = withoutStaging(),
): Promise<{ w: World; git: GitServer }> {
  const git = await startGitServer();
  const config: ShipbotConfig = structuredClone(base);
  const checkout = config.services.find((s) => s.name === 'checkout')!;
  checkout.environments.production.gitops = {
    ...owner,
    git: { url: git.url('deploy'), branch: 'main', path: 'production/checkout.yaml' },
  } as GitopsConfig;
  const w = await startWorld({
    config,
    git: { env: git.readerEnv, creds: { SHIPBOT_GIT_TOKEN: git.token, SHIPBOT_GIT_USERNAME: git.user } },
  });
  return { w, git };
}

export const settled = (r: { phase: { status: string } }) =>
  FINAL_STATUSES.has(r.phase.status as never) || r.phase.status === 'awaiting-decision';

export async function waitFor(check: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Five virtual minutes at the world's 100× clock. */
export const fiveMinutes = () => new Promise((r) => setTimeout(r, 3000));
