// Debian's chromium for the browser suites (`.ci/run` installs it; CHROMIUM_PATH overrides): whether
// it is there, said once with the reason when a suite skips, and a headless launch.
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Whether Chromium is installed; when not, prints why `suite` skips. */
export function haveChromium(suite: string): boolean {
  const have = existsSync(CHROMIUM);
  if (!have) console.warn(`${suite} skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  return have;
}

export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', ...extraArgs],
  });
}
