// Local mode end to end, in a real headless browser: the whole product starts in-process (sandbox,
// metrics, runner, the Bolt app, the Slack double and the workspace page), and a person types a
// deploy request, fills the modal, watches the canary of a `-errors` version roll back by itself,
// presses Investigate and reads what the page shows. Needs Debian's chromium (`.ci/run` installs it).
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { haveChromium, launchChromium } from '../helpers/chromium.js';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startShipbot, type Shipbot } from '../../src/main.js';

const withChromium = haveChromium('test/e2e/local.test.ts');

const ARTIFACTS = path.resolve('test-artifacts');

describe.skipIf(!withChromium)('local mode in a browser', () => {
  let shipbot: Shipbot;
  let browser: Browser;
  let page: Page;
  let dataDir: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'shipbot-local-'));
    shipbot = await startShipbot({
      env: {
        SHIPBOT_CONFIG: path.resolve('data/shipbot.yml'),
        SHIPBOT_DATA_DIR: dataDir,
        // Fast enough that the 5% canary window (5 min) and the baseline pass in seconds.
        SHIPBOT_SPEED: '150',
        LOG_LEVEL: 'warn',
      },
      port: 0,
      print: () => undefined,
    });
    browser = await launchChromium(['--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync']);
    page = await browser.newPage({ viewport: { width: 1600, height: 1280 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  afterAll(async () => {
    await browser?.close();
    await shipbot?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('types a deploy, submits the modal, sees the automatic rollback, investigates', async () => {
    try {
      await flow();
    } catch (err) {
      // What the page showed when it failed, for the person reading the CI log.
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'local-flow-failed.png') }).catch(() => undefined);
      throw err;
    }
  });

  it('/deploy modal (risk updates defaults, inline errors); switching users shows the role checks', async () => {
    try {
      await roles();
    } catch (err) {
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'local-roles-failed.png') }).catch(() => undefined);
      throw err;
    }
  });

  it('a page on another origin cannot drive the workspace: its posts are refused and nothing is sent', async () => {
    // A hostile site open in the same browser, posting as the page would (and as plain forms can).
    const target = shipbot.url;
    const hostile = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>elsewhere</title><body>a page on another site</body>');
    });
    await new Promise<void>((r) => hostile.listen(0, '127.0.0.1', r));
    try {
      const before = shipbot.double!.workspace.messages.length;
      const evil = await browser.newPage();
      await evil.goto(`http://localhost:${(hostile.address() as { port: number }).port}/`);
      const results = await evil.evaluate(async (url) => {
        const body = JSON.stringify({ user: 'U_IC', channel: 'C0DEPLOYS', text: 'lock checkout production' });
        const settled = await Promise.allSettled([
          fetch(`${url}/api/send`, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body }),
          fetch(`${url}/api/send`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
          fetch(`${url}/api/bootstrap`).then((r) => r.json()),
        ]);
        return settled.map((x) => x.status);
      }, target);
      // The token cannot be read cross-origin (no CORS), the JSON post dies at its preflight, and
      // the simple post reaches the server only with a foreign Origin, which it refuses.
      expect(results).toEqual(['fulfilled', 'rejected', 'rejected']);
      // A plain HTML form post (text/plain, no script needed) is refused too.
      await Promise.all([
        evil.waitForNavigation(),
        evil.evaluate((url) => {
          const f = document.createElement('form');
          Object.assign(f, { method: 'POST', action: `${url}/api/send`, enctype: 'text/plain' });
          const i = document.createElement('input');
          Object.assign(i, { name: '{"user":"U_IC","channel":"C0DEPLOYS","text":"deploy checkout v9.9.9","x":"', value: '"}' });
          f.appendChild(i);
          document.body.appendChild(f);
          f.submit();
        }, target),
      ]);
      expect(await evil.content()).toMatch(/bad_origin/);
      await evil.close();
      // Nothing the hostile page sent arrived (Shipbot's own late posts from earlier runs may).
      const sentByIt = shipbot
        .double!.workspace.messages.slice(before)
        .filter((m) => /lock checkout production|v9\.9\.9/.test(m.text ?? ''));
      expect(sentByIt).toEqual([]);
      expect(await shipbot.runner.getLock('checkout', 'production')).toBeUndefined();
    } finally {
      await new Promise<void>((r) => hostile.close(() => r()));
    }
  });

  it('two people press Rollback at once: one rolls back, the other is told who did; Investigate after a production rollback', async () => {
    const requester = await browser.newPage({ viewport: { width: 1600, height: 1280 } });
    // The incident commander is on a phone.
    const ic = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    for (const p of [requester, ic]) p.on('pageerror', (e) => pageErrors.push(e.message));
    try {
      await race(requester, ic);
    } catch (err) {
      mkdirSync(ARTIFACTS, { recursive: true });
      await requester.screenshot({ path: path.join(ARTIFACTS, 'local-race-failed-requester.png') }).catch(() => undefined);
      await ic.screenshot({ path: path.join(ARTIFACTS, 'local-race-failed-ic.png') }).catch(() => undefined);
      throw err;
    } finally {
      await requester.close();
      await ic.close();
    }
  });

  async function race(requester: Page, ic: Page): Promise<void> {
    await requester.goto(`${shipbot.url}/?as=U_DEV`);
    const box = requester.locator('#composer textarea');
    await box.fill('deploy web v2.0.1 canary');
    await box.press('Enter');
    const thread = requester.locator('#thread');
    await thread.getByRole('button', { name: 'Configure…' }).click({ timeout: 15_000 });
    const modal = requester.locator('#modal-root .dialog.modal');
    await modal.getByRole('button', { name: 'Start deploy' }).click();
    await expect.poll(() => modal.count(), { timeout: 10_000 }).toBe(0);
    const title = 'web v2.0.1 → production';
    // Past staging, with the production canary serving: a production rollback is what is raced.
    const run = async () => (await shipbot.runner.list()).find((r) => r.service === 'web' && r.version === 'v2.0.1');
    await expect
      .poll(async () => (await run())?.steps.find((s) => s.key.startsWith('stage:'))?.status, { timeout: 45_000, interval: 100 })
      .toBe('running');

    // Ivan, the incident commander, opens the same thread from the channel.
    await ic.goto(`${shipbot.url}/?as=U_IC`);
    await ic.locator('#messages .msg', { hasText: 'deploy web v2.0.1 canary' }).locator('button.replies').click({ timeout: 10_000 });
    const pages = [requester, ic];
    const progressOf = (p: Page) => p.locator('#thread .msg', { hasText: title }).first();
    for (const p of pages) await progressOf(p).getByRole('button', { name: 'Rollback' }).click({ timeout: 10_000 });
    const confirms = pages.map((p) => p.locator('#confirm-root .dialog.confirm'));
    for (const c of confirms) await expect.poll(() => c.count()).toBe(1);
    // Both confirm in the same instant.
    await Promise.all(confirms.map((c) => c.getByRole('button', { name: 'Roll back' }).click()));

    for (const p of pages) await expect.poll(() => progressOf(p).innerText(), { timeout: 30_000, interval: 200 }).toMatch(/Rolled back/);
    const done = (await run())!;
    expect(done.phase.status).toBe('rolled-back');
    // One rollback acted; the loser was told, privately and by name, never an error.
    expect((await shipbot.runner.auditTrail(done.id)).filter((e) => e.action === 'rollback')).toHaveLength(1);
    const told = await Promise.all(pages.map((p) => p.locator('#thread .msg.ephemeral').allInnerTexts()));
    const losers = told.map((t, i) => ({ t: t.join('\n'), i })).filter((x) => /Already done/.test(x.t));
    expect(losers).toHaveLength(1);
    expect(losers[0]!.t).toMatch(/already roll(ed|ing) back .*(dev|ivan|alice)/i);
    for (const p of pages) expect(await p.locator('.toast-error').count()).toBe(0);
    expect(await ic.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    mkdirSync(ARTIFACTS, { recursive: true });
    await requester.screenshot({ path: path.join(ARTIFACTS, 'local-rollback-race-1600.png') });
    await ic.screenshot({ path: path.join(ARTIFACTS, 'local-rollback-race-390.png') });

    // Investigate after a production rollback: the briefing, and the file with the pods as they
    // were when the rollback began (the canary's, gone since).
    await progressOf(ic).getByRole('button', { name: 'Investigate' }).click();
    const briefing = ic
      .locator('#thread .msg', { hasText: 'What failed' })
      .filter({ hasNot: ic.locator('.file') })
      .last();
    await expect.poll(() => briefing.count(), { timeout: 15_000 }).toBe(1);
    const text = await briefing.innerText();
    expect(text).toMatch(/Investigate.*web v2\.0\.1 → production/);
    expect(text).toMatch(/Next: Production is back on the previous version/);
    const file = ic.locator('#thread .file', { hasText: 'diagnostics' }).last();
    await expect.poll(() => file.count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await file.locator('summary').click();
    const content = await file.locator('.file-content').innerText();
    // Rendered as a page: the heading, not its Markdown.
    expect(await file.locator('.file-content h2', { hasText: 'Pods in production at the decision' }).count()).toBe(1);
    expect(content).toMatch(/v2\.0\.1/);
    expect(await file.locator('.file-content h2', { hasText: 'Pods now' }).count()).toBe(1);
    await briefing.scrollIntoViewIfNeeded();
    await ic.screenshot({ path: path.join(ARTIFACTS, 'local-investigate-production.png') });
  }

  async function roles(): Promise<void> {
    await page.goto(`${shipbot.url}/?as=U_DEV`);
    // The slash command opens the modal straight away (it carries a trigger_id).
    const box = page.locator('#composer textarea');
    await box.fill('/deploy payments v1.3.0 canary');
    await box.press('Enter');
    const modal = page.locator('#modal-root .dialog.modal');
    await expect.poll(() => modal.count(), { timeout: 10_000 }).toBe(1);
    // Risk level has dispatch_action: Shipbot answers with views.update and new defaults.
    const observation = modal.locator('.b-input', { hasText: 'Observation' }).locator('input');
    const before = await observation.inputValue();
    await modal.locator('.b-input', { hasText: 'Risk level' }).locator('select').selectOption('low');
    await expect.poll(() => observation.inputValue(), { timeout: 10_000 }).not.toBe(before);
    // A wrong answer comes back as an inline error (response_action: errors); the modal stays.
    const p99 = modal.locator('.b-input', { hasText: 'p99' }).locator('input');
    await p99.fill('-5');
    await modal.getByRole('button', { name: 'Start deploy' }).click();
    await expect.poll(() => modal.locator('.b-error').allInnerTexts(), { timeout: 10_000 }).toEqual([expect.stringMatching(/p99/)]);
    await p99.fill('500');
    await modal.getByRole('button', { name: 'Start deploy' }).click();
    await expect.poll(() => modal.count(), { timeout: 10_000 }).toBe(0);

    const thread = page.locator('#thread');
    const progress = thread.locator('.msg', { hasText: 'payments v1.3.0 → production' }).first();
    const rollback = progress.getByRole('button', { name: 'Rollback' });
    await expect.poll(() => rollback.count(), { timeout: 15_000 }).toBe(1);

    // Bob, a stakeholder, did not start this run: Shipbot refuses him, privately.
    await page.locator('#who').selectOption('U_OTHER');
    await expect.poll(() => page.locator('#me-role').innerText()).toMatch(/stakeholder/);
    await rollback.click();
    const dialog = page.locator('#confirm-root .dialog.confirm');
    expect(await dialog.innerText()).toMatch(/Roll back payments\?/);
    await dialog.getByRole('button', { name: 'Roll back' }).click();
    const refusal = thread.locator('.msg.ephemeral');
    await expect.poll(() => refusal.count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await refusal.last().innerText()).toMatch(/Only visible to you/);
    expect(await progress.innerText()).not.toMatch(/Rolled back|Rolling back/);

    // Ivan is an incident commander (data/shipbot.yml): his Rollback goes through.
    await page.locator('#who').selectOption('U_IC');
    await expect.poll(() => page.locator('#me-role').innerText()).toMatch(/incident commander/);
    await expect.poll(() => thread.locator('.msg.ephemeral').count()).toBe(0);
    // Under stress he double-clicks: the confirm opens once and stays open for his answer.
    await progress.getByRole('button', { name: 'Rollback' }).dblclick();
    const confirm = page.locator('#confirm-root .dialog.confirm');
    await page.waitForTimeout(300);
    expect(await confirm.count()).toBe(1);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'local-double-click-confirm.png') });
    await confirm.getByRole('button', { name: 'Roll back' }).click();
    await expect.poll(() => progress.innerText(), { timeout: 30_000, interval: 200 }).toMatch(/Rolled back/);
    expect(await progress.innerText()).toMatch(/ivan|Ivan|U_IC/);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'local-roles.png') });
  }

  async function flow(): Promise<void> {
    await page.goto(`${shipbot.url}/?as=U_DEV`);
    await expect.poll(() => page.locator('#sandbox-body .svc[data-service=checkout]').count()).toBe(1);
    // catalog's card shows the weights of its HTTPRoute; no empty preview cards pile up.
    await expect
      .poll(() =>
        page
          .locator('#sandbox-body .svc[data-service=catalog] .route')
          .first()
          .innerText()
          .catch(() => ''),
      )
      .toBe('HTTPRoute catalog: catalog 100%');

    // A plain message in #deploys; Shipbot answers in a thread the page opens.
    const box = page.locator('#composer textarea');
    await box.fill('deploy checkout v1.2.4-errors canary');
    await box.press('Enter');
    const thread = page.locator('#thread');
    await thread.getByRole('button', { name: 'Configure…' }).click({ timeout: 15_000 });

    // The six questions, pre-filled; submit as they are.
    const modal = page.locator('#modal-root .dialog.modal');
    await expect.poll(() => modal.count(), { timeout: 10_000 }).toBe(1);
    const modalText = await modal.innerText();
    expect(modalText).toMatch(/Deploy checkout/);
    expect(await modal.locator('.b-input').count()).toBeGreaterThanOrEqual(6);
    await modal.getByRole('button', { name: 'Start deploy' }).click();
    await expect.poll(() => modal.count(), { timeout: 10_000 }).toBe(0);

    // One progress message, edited live until the -errors version is rolled back without anyone
    // pressing anything (checkout has staging, so its regression gate catches it there).
    const progress = thread.locator('.msg', { hasText: 'checkout v1.2.4-errors → production' }).first();
    await expect.poll(() => progress.count(), { timeout: 15_000 }).toBe(1);
    await expect.poll(() => progress.innerText(), { timeout: 45_000, interval: 200 }).toMatch(/Rolled back/);
    // Edited in place (chat.update), not reposted.
    expect(Number(await progress.getAttribute('data-edits'))).toBeGreaterThan(0);
    const finalText = await progress.innerText();
    expect(finalText).toMatch(/Outcome:/);
    expect(finalText).toMatch(/error/i);

    await progress.getByRole('button', { name: 'Investigate' }).click();
    // After a staging failure: what failed, the numbers beside the baseline, and that production is deployable.
    const diagnostics = thread
      .locator('.msg', { hasText: 'What failed' })
      .filter({ hasNot: page.locator('.file') })
      .last();
    await expect.poll(() => diagnostics.count(), { timeout: 15_000 }).toBe(1);
    const diagText = await diagnostics.innerText();
    expect(diagText).toMatch(/What failed: Staging regression gate failed/);
    expect(diagText).toMatch(/Evidence:[\s\S]*error/);
    expect(diagText).toMatch(/Next: Production was never touched and can be deployed/);
    expect(diagText).not.toMatch(/Pods: none found|Canary vs baseline/);
    await expect
      .poll(
        () =>
          thread
            .locator('.file', { hasText: 'diagnostics' })
            .count()
            .catch(() => 0),
        { timeout: 10_000 },
      )
      .toBeGreaterThan(0);
    mkdirSync(ARTIFACTS, { recursive: true });
    await diagnostics.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, 'local-investigate-staging.png') });

    // The report opens as a page: headings and tables, not Markdown's pipes.
    const report = thread.locator('.file', { hasText: 'report' }).first();
    await expect.poll(() => report.count(), { timeout: 15_000 }).toBe(1);
    await report.locator('summary').click();
    await expect.poll(() => report.locator('.file-content table').count(), { timeout: 10_000 }).toBeGreaterThan(2);
    expect(await report.locator('.file-content h2').allInnerTexts()).toContain('Rollback details');
    expect(await report.locator('.file-content').innerText()).not.toMatch(/^\|/m);
    await report.screenshot({ path: path.join(ARTIFACTS, 'local-report.png') });

    // The stakeholder channel got the broadcast.
    const announce = shipbot.double!.messages('deploy-announcements');
    expect(announce.some((m) => /checkout/.test(m.text))).toBe(true);

    // The side panel: after the rollback checkout's stable track serves everything again, in both namespaces.
    for (const ns of ['staging', 'production']) {
      await page.locator(`#sandbox-body .ns-tab[data-namespace=${ns}]`).click();
      const checkout = page.locator('#sandbox-body .svc[data-service=checkout]');
      await expect
        .poll(() => checkout.locator('.track').allInnerTexts(), { timeout: 15_000 })
        .toEqual([expect.stringMatching(/stable\s+v1\.2\.2.*100%/s)]);
      // The canary's Service, scaled to no pods, leaves no empty card behind.
      await expect.poll(() => page.locator('#sandbox-body .svc[data-service=checkout-canary]').count(), { timeout: 15_000 }).toBe(0);
    }
    await page.locator('#sandbox-body .ns-tab[data-namespace=production]').click();
    // On a 1280×800 laptop with the thread open, the side panel is whole, not cut off.
    await page.setViewportSize({ width: 1280, height: 800 });
    const panel = (await page.locator('#sandbox').boundingBox())!;
    expect(panel.x + panel.width).toBeLessThanOrEqual(1280);
    expect(panel.width).toBeGreaterThanOrEqual(280);
    expect((await page.locator('#thread').boundingBox())!.width).toBeGreaterThan(300);
    await page.screenshot({ path: path.join(ARTIFACTS, 'local-1280.png') });
    await page.setViewportSize({ width: 1600, height: 1280 });
    // The picture for the README: the progress message as it ended, with what followed below it.
    await progress.evaluate((el) => el.scrollIntoView({ block: 'start' }));
    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = path.join(ARTIFACTS, 'local-flow.png');
    await page.screenshot({ path: shot });
    if (process.env.UPDATE_SCREENSHOT) copyFileSync(shot, path.resolve('docs/screenshot.png'));
    expect(pageErrors).toEqual([]);
  }
});
