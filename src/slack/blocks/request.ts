// The first reply in the thread: what was understood, the recommended strategy and why, and
// Configure… / Start / Cancel. Also the short answers for help, refusals and missing details.
import { reasonAfterName } from '../../domain/recommend.js';
import type { DeployRequest, Strategy } from '../../domain/types.js';
import { actions, button, context, section, type Block } from './kit.js';
import { LIMITS, truncate } from './limits.js';

export const REQUEST_ACTIONS = {
  configure: 'req_configure',
  start: 'req_start',
  schedule: 'req_schedule',
  cancel: 'req_cancel',
  queue: 'req_queue',
} as const;

/**
 * The request travels in the buttons' value, so a press works after a restart too. Guidance
 * and notes are cut first if it would not fit Slack's 2000 characters.
 */
export function encodeRequest(request: DeployRequest): string {
  const full = JSON.stringify(request);
  if (full.length <= LIMITS.buttonValue) return full;
  const slim = { ...request, notes: [], suggestions: [], guidance: request.guidance ? truncate(request.guidance, 600) : undefined };
  const out = JSON.stringify(slim);
  return out.length <= LIMITS.buttonValue ? out : JSON.stringify({ ...slim, guidance: undefined });
}

export interface Recommendation {
  strategy: Strategy;
  rationale: string;
}

function describe(r: DeployRequest): string {
  const parts = [`deploy *${r.service ?? '?'}* *${r.version ?? '?'}* to *${r.environment}*`];
  if (r.strategy) parts.push(`with *${r.strategy}*${r.canarySteps ? ` (${r.canarySteps.join('% → ')}%)` : ''}`);
  if (r.risk) parts.push(`risk *${r.risk}*`);
  if (r.dbMigration !== undefined) parts.push(r.dbMigration ? 'with a DB migration' : 'no DB migration');
  if (r.scheduledAt) parts.push(`at ${r.scheduledAt}`);
  return parts.join(', ');
}

/** `canSchedule`: the scheduler is wired, so a request with a time gets a *Schedule* button. */
export function requestReply(
  request: DeployRequest,
  rec: Recommendation | undefined,
  /** `locked`: why the service cannot start now (the lock, in words); the reply offers to queue instead of Start. */
  opts: { canSchedule?: boolean; locked?: string } = {},
): { text: string; blocks: Block[] } {
  const blocks: Block[] = [];
  const missing = request.missing;
  blocks.push(section(`I understood: ${describe(request)}.`));
  if (missing.length) {
    const ask = missing.map((m) => (m === 'service' ? 'which service' : 'which version (image tag)')).join(' and ');
    const hint =
      request.unknownService && request.suggestions.length
        ? `\nI don't know a service called \`${request.unknownService}\`. Did you mean ${request.suggestions.map((s) => `\`${s}\``).join(' or ')}?`
        : '';
    blocks.push(
      section(
        `❓ I need to know ${ask}; I won't guess.${hint}\nPress *Configure…* to fill it in, or send the whole request again, e.g. \`deploy checkout v1.2.3 canary\`.`,
      ),
    );
  }
  if (rec) {
    const chosen = request.strategy && request.strategy !== rec.strategy ? ` (you asked for *${request.strategy}*)` : '';
    blocks.push(
      section(
        `*Recommended strategy:* ${rec.strategy}${chosen} — ${reasonAfterName(rec.strategy, rec.rationale) || 'the default for this service'}`,
      ),
    );
  }
  const schedulable = Boolean(request.scheduledAt && opts.canSchedule);
  if (schedulable) {
    blocks.push(
      section(
        `🕒 You asked for *${scheduleTime(request.scheduledAt!)}*. *Schedule* books it: Shipbot starts it then, with the usual checks (lock, freeze window, approval). *Start now* deploys right away instead.`,
      ),
    );
  } else if (request.scheduledAt) {
    // Without the scheduler nothing can start a run later: say so rather than silently deploying now.
    blocks.push(
      section(
        `🕒 You asked for ${request.scheduledAt}. Shipbot cannot schedule a deploy from Slack yet: *Start now* deploys right away, or ask again at that time.`,
      ),
    );
  }
  if (request.notes.length)
    blocks.push(
      context(
        ...request.notes.slice(0, 9).map((n) => truncate(n, 300)),
        ...(request.notes.length > 9 ? [`…and ${request.notes.length - 9} more`] : []),
      ),
    );
  const value = encodeRequest(request);
  const buttons = [button('Configure…', REQUEST_ACTIONS.configure, value)];
  if (opts.locked && !missing.length) {
    blocks.push(section(`${opts.locked}\n*Queue* books this deploy to start when the lock is released.`));
    buttons.push(button('Queue behind it', REQUEST_ACTIONS.queue, value, { style: 'primary' }));
  } else if (!missing.length && schedulable)
    buttons.push(
      button('Schedule', REQUEST_ACTIONS.schedule, value, { style: 'primary' }),
      button('Start now', REQUEST_ACTIONS.start, value),
    );
  else if (!missing.length)
    buttons.push(button(request.scheduledAt ? 'Start now' : 'Start', REQUEST_ACTIONS.start, value, { style: 'primary' }));
  buttons.push(button('Cancel', REQUEST_ACTIONS.cancel, value));
  blocks.push(actions('request', buttons));
  const text = missing.length
    ? `I need ${missing.join(' and ')} to deploy.`
    : `Deploy ${request.service} ${request.version} to ${request.environment}?`;
  return { text, blocks };
}

/** `2026-11-24T02:00:00.000Z` → `2026-11-24 02:00 UTC`. */
export function scheduleTime(iso: string): string {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? new Date(t).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : iso;
}

/** The request reply after Start / Cancel / a modal submission: no buttons left to press twice. */
export function requestClosed(request: DeployRequest, how: string): { text: string; blocks: Block[] } {
  return { text: how, blocks: [section(`I understood: ${describe(request)}.`), context(how)] };
}

export function helpText(): string {
  return [
    '*Shipbot* deploys services with a canary, blue-green or rolling rollout and watches their SLOs.',
    '• `deploy checkout v1.2.3 canary` — asks a few questions, then rolls out with live progress here',
    '• `/deploy checkout v1.2.3` — the same, straight into the questions',
    '• `rollback checkout` — rolls back the live deploy of a service',
    '• `status` or `status checkout` — what is deploying now',
    '• `lock checkout production because incident` / `unlock checkout production`',
    '• `deploy checkout v1.2.3 canary at 02:00` (UTC) — *Schedule* books it; `schedules` lists them, `cancel schedule s-…` cancels one',
    '• `override freeze s-… <reason>` — an incident commander lets a scheduled deploy start inside a freeze window',
    '• `stop all deploys <reason>` / `resume deploys` — an incident commander halts every run at its next safe point, and new deploys, until resumed',
    'Buttons on the progress message: *Rollback*, *Accept*, *Investigate*, *Approve*, *Resume*.',
  ].join('\n');
}
