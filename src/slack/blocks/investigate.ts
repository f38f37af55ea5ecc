// Investigate in Slack: the briefing (src/reports/investigate.ts) as one section; the full
// diagnostics go in a file attached to the thread.
import { investigateBriefing, runTitle } from '../../reports/investigate.js';
import type { Diagnostics, RunView } from '../../domain/run.js';
import { section, type Block } from './kit.js';

export function investigateMessage(run: RunView, d: Diagnostics): { text: string; blocks: Block[] } {
  const lines = investigateBriefing(run, d);
  return { text: `Investigate ${runTitle(run)}`, blocks: [section(lines.join('\n'))] };
}
