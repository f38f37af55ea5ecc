// Keeps the local workspace's messages in data/ across restarts, next to the runs in
// shipbot.db, so a resumed run's thread (and its progress message) is still there to edit.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '../log.js';
import type { DoubleMessage, Workspace } from '../slack/double/workspace.js';

/** Older messages are dropped beyond this, so the file stays small. */
const KEEP = 2000;

const Saved = z.object({
  version: z.literal(1),
  messages: z.array(
    z.object({
      channel: z.string(),
      ts: z.string(),
      threadTs: z.string().optional(),
      user: z.string().optional(),
      botId: z.string().optional(),
      text: z.string(),
      blocks: z.array(z.unknown()).optional(),
      files: z.array(z.object({ id: z.string(), name: z.string(), title: z.string(), content: z.string() })).optional(),
      editCount: z.number(),
      ephemeralTo: z.string().optional(),
      replyBroadcast: z.boolean().optional(),
      deleted: z.boolean().optional(),
    }),
  ),
});

export interface PersistedWorkspace {
  /** Writes now (on shutdown). */
  flush(): void;
}

export function persistWorkspace(ws: Workspace, file: string, logger?: Logger): PersistedWorkspace {
  load();
  let timer: NodeJS.Timeout | undefined;
  const unsubscribe = ws.onChange((e) => {
    if (e.kind === 'call' || e.kind.startsWith('view')) return;
    timer ??= setTimeout(save, 500);
  });

  function load(): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return; // first start
    }
    const parsed = Saved.safeParse(safeJson(text));
    if (!parsed.success) {
      logger?.warn(`${file} is not a saved local workspace; starting with empty channels (delete the file to silence this)`);
      return;
    }
    // Only channels this workspace has; the double's ids are fixed, so threads line up again.
    for (const m of parsed.data.messages) if (ws.channels.has(m.channel)) ws.messages.push(m as DoubleMessage);
  }

  function save(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const messages = ws.messages.filter((m) => !m.deleted).slice(-KEEP);
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.tmp`;
      writeFileSync(tmp, JSON.stringify({ version: 1, messages }));
      renameSync(tmp, file);
    } catch (err) {
      logger?.warn({ err }, `could not save the local workspace to ${file}; messages will not survive a restart`);
    }
  }

  return {
    flush() {
      unsubscribe();
      save();
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
