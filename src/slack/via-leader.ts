// Slack on a replica (a shared database, ops/replica.ts): reads and new runs go to this process's
// runner and the store; a person's command goes to the replica that leads.
import { randomUUID } from 'node:crypto';
import type { Replica } from '../ops/replica.js';
import type { Runner } from '../runner/runner.js';
import type { SlackRunner } from './deps.js';

/** What Slack drives on a replica: the runner, with people's commands carried out by the leader. */
export function viaLeader(runner: Runner, replica: Replica): SlackRunner {
  return {
    start: (input) => runner.start(input),
    // Each press is its own command: a replayed press is dropped before this (actOnce, by trigger_id).
    command: (runId, cmd, actor) => replica.command(runId, cmd, actor, randomUUID()),
    get: (runId) => runner.get(runId),
    list: () => runner.list(),
    locks: () => runner.locks(),
    wallTime: (moment) => runner.wallTime(moment),
    subscribe: (listener) => runner.subscribe(listener),
    lock: (...a) => runner.lock(...a),
    unlock: (...a) => runner.unlock(...a),
    investigate: (runId, actor) => runner.investigate(runId, actor),
    stopAll: (actor, reason) => runner.stopAll(actor, reason),
    resumeAll: (actor) => runner.resumeAll(actor),
  };
}
