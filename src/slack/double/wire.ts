// Slack's wire formats as the double reads and writes them: form or JSON bodies, the JSON of a
// message and of a view, and the checks slack.com makes on a message before posting it.
import type { IncomingMessage } from 'node:http';
import { blockProblems, LIMITS } from '../blocks/limits.js';
import type { DoubleMessage, DoubleView } from './workspace.js';

export type Args = Record<string, unknown>;

/** Fields the Web API client sends JSON-encoded inside form bodies. */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'view', 'metadata', 'files']);
const BOOL_FIELDS = new Set([
  'reply_broadcast',
  'include_users',
  'unfurl_links',
  'unfurl_media',
  'mrkdwn',
  'replace_original',
  'delete_original',
]);

export function messageProblems(a: Args): Record<string, unknown> | undefined {
  if (a.blocks !== undefined) {
    const problems = blockProblems(a.blocks, 'message');
    if (problems.length) return { ok: false, error: 'invalid_blocks', errors: problems, response_metadata: { messages: problems } };
  }
  if (a.text === undefined && a.blocks === undefined) return { ok: false, error: 'no_text' };
  if (typeof a.text === 'string' && a.text.length > LIMITS.messageText) return { ok: false, error: 'msg_too_long' };
  return undefined;
}

export function messageJson(m: DoubleMessage): Record<string, unknown> {
  return {
    type: 'message',
    ts: m.ts,
    ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
    ...(m.user ? { user: m.user } : {}),
    ...(m.botId ? { bot_id: m.botId, app_id: 'A0SHIPBOT' } : {}),
    text: m.text,
    ...(m.blocks ? { blocks: m.blocks } : {}),
    ...(m.editCount ? { edited: { user: m.user, ts: m.ts } } : {}),
  };
}

export function viewJson(v: DoubleView, teamId: string, appId: string): Record<string, unknown> {
  return {
    type: 'modal',
    private_metadata: '',
    callback_id: '',
    state: { values: {} },
    ...v.view,
    id: v.id,
    team_id: teamId,
    app_id: appId,
    hash: v.hash,
    root_view_id: v.parentId ?? v.id,
    previous_view_id: v.parentId ?? null,
  };
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function parseArgs(raw: string, contentType: string): Args {
  if (!raw) return {};
  if (contentType.includes('application/json')) return JSON.parse(raw) as Args;
  const args: Args = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    args[k] = JSON_FIELDS.has(k) ? JSON.parse(v) : BOOL_FIELDS.has(k) ? v === 'true' || v === '1' : v;
  }
  return args;
}
