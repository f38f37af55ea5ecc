// Stop the line: an incident commander's "stop all deploys <reason>" and "resume deploys". The
// stop is saved first (it survives a restart); each run in flight pauses at its next step boundary
// (the loop's check, StepLoop.holdForLineStop), and new deploys, approvals and accepts are refused
// until an incident commander resumes.
import { isIncidentCommander } from '../domain/permissions.js';
import { FINAL_STATUSES } from '../domain/run.js';
import { labelName } from '../domain/text.js';
import type { Actor } from '../domain/types.js';
import { actorLabel } from '../store/records.js';
import type { Journal } from './journal.js';
import type { RunnerDeps, StepLoop } from './loop.js';
import { lineStoppedMessage } from './messages.js';

export interface LineResult {
  ok: boolean;
  acted: boolean;
  message: string;
}

/**
 * "stop all deploys <reason>": an incident commander halts the line. Every run in flight pauses
 * at its next safe point (between steps; a rollback goes on) and new deploys are refused until
 * `resumeAll`. Saved first, so a restart keeps it.
 */
export async function stopLine(deps: RunnerDeps, loop: StepLoop, journal: Journal, actor: Actor, reason: string): Promise<LineResult> {
  const { store, config, clock } = deps;
  const who = actorLabel(actor);
  if (!isIncidentCommander(actor, config)) {
    await journal.audit(undefined, who, 'stop-all-refused', reason);
    return {
      ok: false,
      acted: false,
      message: `Only incident commanders (roles.incidentCommanders in shipbot.yml) may stop all deploys.`,
    };
  }
  const stop = { by: who, reason: reason.trim() || 'no reason given', at: clock.now() };
  if (!(await store.stopLine(stop))) {
    const holding = await store.lineStop();
    return { ok: true, acted: false, message: `Already stopped${holding ? `: ${lineStoppedMessage(holding)}` : ''}` };
  }
  await journal.audit(undefined, who, 'stop-all', stop.reason);
  // A run between steps pauses now; one inside a step pauses when the step ends (the loop's check).
  const held: string[] = [];
  for (const a of loop.active.values()) {
    if (FINAL_STATUSES.has(a.rec.phase.status)) continue;
    held.push(`${a.rec.service} ${a.rec.version} (${a.rec.phase.status})`);
    void loop.wake(a.rec.id);
  }
  return {
    ok: true,
    acted: true,
    message: `🛑 All deploys stopped by ${labelName(who)}: ${stop.reason}. ${held.length ? `Runs in flight hold at their next safe point: ${held.join(', ')}.` : 'No run was in flight.'} New deploys are refused until an incident commander says \`resume deploys\`.`,
  };
}

/** "resume deploys": lifts the stop and resumes the runs it held. */
export async function resumeLine(deps: RunnerDeps, loop: StepLoop, journal: Journal, actor: Actor): Promise<LineResult> {
  const { store, config } = deps;
  const who = actorLabel(actor);
  if (!isIncidentCommander(actor, config)) {
    await journal.audit(undefined, who, 'resume-all-refused', '');
    return { ok: false, acted: false, message: `Only incident commanders (roles.incidentCommanders in shipbot.yml) may resume deploys.` };
  }
  const stop = await store.lineStop();
  if (!(await store.resumeLine())) return { ok: true, acted: false, message: 'Deploys are not stopped.' };
  await journal.audit(undefined, who, 'resume-all', stop ? `was: ${stop.reason}` : '');
  const resumed: string[] = [];
  for (const rec of await store.listRuns({ status: ['paused'] })) {
    const live = (await loop.live(rec.id)) ?? rec;
    if (live.phase.status !== 'paused' || !live.phase.lineStop) continue;
    await loop.dispatch(live, { type: 'line-resumed', by: who }).settled;
    await loop.wake(live.id);
    resumed.push(`${live.service} ${live.version}`);
  }
  return {
    ok: true,
    acted: true,
    message: `▶️ Deploys resumed by ${labelName(who)}.${resumed.length ? ` Resuming ${resumed.join(', ')}.` : ''}`,
  };
}
