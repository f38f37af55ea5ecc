// The local workspace's layout in a real headless browser, at a laptop's 1280×800 and a phone's
// 390×844: no empty column on the desktop, one column on the phone (the channel list a drawer,
// the thread full width with its close button in reach, the cluster panel behind a toggle), and
// nothing that scrolls sideways. Screenshots go to test-artifacts/. Needs Debian's chromium.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { haveChromium, launchChromium } from '../helpers/chromium.js';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { startShipbot, type Shipbot } from '../../src/main.js';

const withChromium = haveChromium('test/e2e/layout.test.ts');

const ARTIFACTS = path.resolve('test-artifacts');

describe.skipIf(!withChromium)('the local workspace on a desktop and on a phone', () => {
  let shipbot: Shipbot;
  let browser: Browser;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'shipbot-layout-'));
    shipbot = await startShipbot({
      env: { SHIPBOT_CONFIG: path.resolve('data/shipbot.yml'), SHIPBOT_DATA_DIR: dataDir, SHIPBOT_SPEED: '60', LOG_LEVEL: 'warn' },
      port: 0,
      print: () => undefined,
    });
    browser = await launchChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await shipbot?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const box = async (page: Page, selector: string) => (await page.locator(selector).first().boundingBox())!;
  /**
   * Scrolls to a message. The page redraws its messages on every event, so an element Playwright
   * waits on to hold still may be replaced first: the scroll is done in the page, on whichever
   * copy is there, and the redrawn one stands where it stood.
   */
  const scrollTo = async (l: Locator) => {
    await expect.poll(() => l.count(), { timeout: 10_000 }).toBeGreaterThan(0);
    for (let i = 0; ; i++) {
      try {
        return await l.evaluate((el) => el.scrollIntoView({ block: 'nearest' }), undefined, { timeout: 2000 });
      } catch (err) {
        if (i === 4) throw err;
      }
    }
  };
  const sideways = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

  async function ask(page: Page, text: string): Promise<void> {
    const input = page.locator('#composer textarea');
    await input.fill(text);
    await input.press('Enter');
    await page.locator('#thread').getByRole('button', { name: 'Configure…' }).waitFor({ timeout: 15_000 });
  }

  it('1280×800: the panes fill the width, with no empty column whether a thread is open or not', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${shipbot.url}/?as=U_DEV`);
    await page.locator('#sandbox-body .svc[data-service=checkout]').waitFor({ timeout: 15_000 });
    let channel = await box(page, 'main.channel');
    let cluster = await box(page, '#sandbox');
    expect(Math.abs(channel.x + channel.width - cluster.x)).toBeLessThanOrEqual(2);
    expect(Math.abs(cluster.x + cluster.width - 1280)).toBeLessThanOrEqual(2);
    await ask(page, 'deploy checkout v1.2.3 canary');
    channel = await box(page, 'main.channel');
    const thread = await box(page, '#thread');
    cluster = await box(page, '#sandbox');
    expect(Math.abs(channel.x + channel.width - thread.x)).toBeLessThanOrEqual(2);
    expect(Math.abs(thread.x + thread.width - cluster.x)).toBeLessThanOrEqual(2);
    expect(Math.abs(cluster.x + cluster.width - 1280)).toBeLessThanOrEqual(2);
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'layout-1280x800-thread.png') });

    // Marks are drawn by the page, not left to an emoji font (headless Chromium has none).
    const input = page.locator('#composer textarea');
    await input.fill('lock payments production because layout check');
    await input.press('Enter');
    await expect.poll(() => page.locator('.mk-ico[title=locked]').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await page.locator('#app').innerText()).not.toMatch(/🔒|🔓|🤔|✅/u);
    await page.close();
  });

  it('390×844: one column; the channel list is a drawer, the thread full width with its ✕ on screen, the cluster behind a toggle', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await page.goto(`${shipbot.url}/?as=U_IC`);
    await page.locator('#channel-name').waitFor();
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    // The channel has the whole width; the list waits behind ☰.
    const channel = await box(page, 'main.channel');
    expect(channel.x).toBeLessThanOrEqual(1);
    expect(channel.width).toBeGreaterThanOrEqual(388);
    const sidebar = await box(page, '.sidebar');
    expect(sidebar.x + sidebar.width).toBeLessThanOrEqual(1);
    await page.locator('#menu').click();
    await expect.poll(async () => (await box(page, '.sidebar')).x).toBeGreaterThanOrEqual(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'layout-390x844-drawer.png') });
    await page.locator('#channels button').first().click();
    await expect
      .poll(async () => {
        const b = await box(page, '.sidebar');
        return b.x + b.width;
      })
      .toBeLessThanOrEqual(1);

    // A request opens its thread over the channel, full width, its close button in reach.
    await ask(page, 'deploy checkout v1.2.3 canary');
    const thread = await box(page, '#thread');
    expect(thread.x).toBeLessThanOrEqual(1);
    expect(thread.width).toBeGreaterThanOrEqual(388);
    const close = await box(page, '#thread-close');
    expect(close.x).toBeGreaterThanOrEqual(0);
    expect(close.x + close.width).toBeLessThanOrEqual(390);
    // No line is cut: nothing in the thread is wider than the screen.
    expect(await page.evaluate(() => document.querySelector('#thread-messages')!.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'layout-390x844-thread.png') });
    await page.locator('#thread-close').click();
    await expect.poll(() => page.locator('#thread').isVisible()).toBe(false);

    // The cluster panel opens over everything and closes again; the channel is whole after it.
    await page.locator('#cluster-toggle').click();
    const cluster = await box(page, '#sandbox');
    expect(cluster.x).toBeLessThanOrEqual(1);
    expect(cluster.width).toBeGreaterThanOrEqual(388);
    await page.screenshot({ path: path.join(ARTIFACTS, 'layout-390x844-cluster.png') });
    await page.locator('#cluster-close').click();
    await expect.poll(() => page.locator('#sandbox').isVisible()).toBe(false);
    expect((await box(page, 'main.channel')).width).toBeGreaterThanOrEqual(388);
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    await page.close();
  });

  it("the cluster panel shows a service's idle colour as a line in its card, not a card of its own", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${shipbot.url}/?as=U_IC`);
    await ask(page, 'deploy web v2.0.2 blue-green');
    await page.locator('#thread').getByRole('button', { name: 'Start', exact: true }).click();
    const line = page.locator('#sandbox-body .svc[data-service=web] .preview-line');
    await expect.poll(() => line.count(), { timeout: 60_000, interval: 100 }).toBeGreaterThan(0);
    // Production runs the exact build staging pulled: its digest.
    expect(await line.first().innerText()).toMatch(/^web-preview \(checks\): (v2\.0\.2|sha256:[0-9a-f]+) \d+\/\d+ ready/);
    expect(await page.locator('#sandbox-body .svc[data-service=web-preview]').count()).toBe(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'layout-1280x800-preview.png') });
    await page.close();
  });

  // The flows people walk, at both sizes: every step on screen with nothing scrolling sideways.
  const sizes = [
    { name: '1280x800', viewport: { width: 1280, height: 800 }, phone: false, good: 'search' },
    { name: '390x844', viewport: { width: 390, height: 844 }, phone: true, good: 'catalog' },
  ];
  for (const size of sizes)
    it(`${size.name}: request, the modal, a canary to the end, a bad build stopped at staging, Investigate, lock and unlock`, async () => {
      const page = await browser.newPage({ viewport: size.viewport, ...(size.phone ? { isMobile: true, hasTouch: true } : {}) });
      const shot = (what: string) => page.screenshot({ path: path.join(ARTIFACTS, `walk-${size.name}-${what}.png`) });
      const fits = async (what: string) => {
        expect(await sideways(page), what).toBeLessThanOrEqual(0);
        await shot(what);
      };
      try {
        await page.goto(`${shipbot.url}/?as=U_IC`);
        await page.locator('#channel-name').waitFor();
        const thread = page.locator('#thread');

        // Request and the modal, whole on screen; a short observation so the canary ends soon.
        await ask(page, `deploy ${size.good} v2.1.0 canary`);
        await fits('request');
        await thread.getByRole('button', { name: 'Configure…' }).click();
        const modal = page.locator('#modal-root .dialog.modal');
        await expect.poll(() => modal.count(), { timeout: 10_000 }).toBe(1);
        const dialog = await box(page, '#modal-root .dialog.modal');
        expect(dialog.x).toBeGreaterThanOrEqual(0);
        expect(dialog.x + dialog.width).toBeLessThanOrEqual(size.viewport.width);
        await modal.locator('.b-input', { hasText: 'Observation period' }).locator('input').fill('1');
        await fits('modal');
        await modal.getByRole('button', { name: 'Start deploy' }).click();
        await expect.poll(() => modal.count(), { timeout: 10_000 }).toBe(0);

        // The canary to the end, live in its progress message.
        const progress = thread.locator('.msg', { hasText: `${size.good} v2.1.0 → production` }).first();
        await expect.poll(() => progress.innerText(), { timeout: 120_000, interval: 250 }).toMatch(/Succeeded/);
        await expect.poll(() => thread.locator('.msg', { hasText: 'Deployed' }).count(), { timeout: 15_000 }).toBeGreaterThan(0);
        await scrollTo(progress);
        await fits('canary-done');

        // A bad build, stopped by the staging gate; Investigate says what failed.
        if (size.phone) await page.locator('#thread-close').click();
        await ask(page, 'deploy checkout v1.2.9-errors canary');
        await thread.getByRole('button', { name: 'Start', exact: true }).click();
        const bad = thread.locator('.msg', { hasText: 'checkout v1.2.9-errors → production' }).first();
        await expect.poll(() => bad.innerText(), { timeout: 90_000, interval: 250 }).toMatch(/Rolled back/);
        await bad.getByRole('button', { name: 'Investigate' }).click();
        const briefing = thread
          .locator('.msg', { hasText: 'What failed' })
          .filter({ hasNot: page.locator('.file') })
          .last();
        await expect.poll(() => briefing.count(), { timeout: 15_000 }).toBe(1);
        expect(await briefing.innerText()).toMatch(/Staging regression gate failed/);
        await scrollTo(briefing);
        await fits('investigate');

        // Lock and unlock from the channel, answered in their threads.
        if (size.phone) await page.locator('#thread-close').click();
        const input = page.locator('#composer textarea');
        for (const [text, answer] of [
          ['lock web staging because the walkthrough', /locked by ivan/],
          ['unlock web staging', /unlocked/i],
        ] as const) {
          await input.fill(text);
          await input.press('Enter');
          await expect.poll(() => thread.innerText().catch(() => ''), { timeout: 15_000 }).toMatch(answer);
          await fits(text.split(' ')[0]!);
          if (size.phone) await page.locator('#thread-close').click();
        }
      } catch (err) {
        await shot('failed').catch(() => undefined);
        throw err;
      } finally {
        await page.close();
      }
    }, 240_000);

  it('Shipbot unreachable is visible: a banner in the channel and the thread, buttons off', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${shipbot.url}/?as=U_DEV`);
    await ask(page, 'deploy search v2.0.1 canary');
    expect(await page.locator('.offline-banner').first().isVisible()).toBe(false);
    await shipbot.stop();
    await expect.poll(() => page.locator('#thread .offline-banner').isVisible(), { timeout: 15_000 }).toBe(true);
    expect(await page.locator('main.channel .offline-banner').isVisible()).toBe(true);
    const start = page.locator('#thread').getByRole('button', { name: 'Start' });
    expect(await start.evaluate((b) => getComputedStyle(b).pointerEvents)).toBe('none');
    await page.screenshot({ path: path.join(ARTIFACTS, 'layout-1280x800-offline.png') });
    await page.close();
  });
});
