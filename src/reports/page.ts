// A run's report as a web page, for SHIPBOT_PUBLIC_URL (`<url>/reports/<run>`): the Markdown
// rendered (tables as tables), readable on a phone. The report quotes what people and Claude
// wrote, so raw HTML in it is shown as text and only http(s) links are links.
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Marked } from 'marked';
import { reportOf, type RunPhase } from '../domain/run.js';

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const markdown = new Marked({
  renderer: {
    html: (token) => escapeHtml(token.text),
    link({ href, tokens }) {
      const label = this.parser.parseInline(tokens);
      return /^https?:\/\//i.test(href) ? `<a href="${escapeHtml(href)}" rel="noopener noreferrer">${label}</a>` : label;
    },
    image: ({ text }) => escapeHtml(text),
  },
});

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1rem;color:#1d1c1d}
table{border-collapse:collapse;display:block;overflow-x:auto;margin:1rem 0}th,td{border:1px solid #ddd;padding:.3rem .6rem;text-align:left}
th{background:#f6f6f6}code{background:#f4f4f4;padding:0 .2rem;border-radius:3px;overflow-wrap:anywhere}pre{overflow-x:auto}`;

/** A whole HTML page of the Markdown `text`. */
export function reportPage(text: string): string {
  const title = /^# (.+)$/m.exec(text)?.[1] ?? 'Shipbot report';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${markdown.parse(text, { async: false })}</body></html>`;
}

/** Where people open a run's report: `<publicUrl>/reports/<run>` (and `/incident` after a rollback). */
export function reportUrl(publicUrl: string, runId: string, incident = false): string {
  return `${publicUrl.replace(/\/+$/, '')}/reports/${encodeURIComponent(runId)}${incident ? '/incident' : ''}`;
}

/**
 * GET /reports/:run and /reports/:run/incident: the run's report files found through its record
 * (never a path from the request), 404 for a run without one.
 */
export function reportRoutes(record: (runId: string) => Promise<{ phase: RunPhase } | undefined>) {
  const serve = (incident: boolean) => async (req: IncomingMessage & { params?: Record<string, string> }, res: ServerResponse) => {
    const run = req.params?.run;
    const rec = run ? await record(run).catch(() => undefined) : undefined;
    const file = rec && (incident ? reportOf(rec)?.incident : reportOf(rec)?.path);
    const send = (status: number, body: string, type: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      res.end(body);
    };
    if (!file) return send(404, `no ${incident ? 'incident report' : 'report'} for run ${run ?? '?'}\n`, 'text/plain; charset=utf-8');
    readFile(file, 'utf8').then(
      (text) => send(200, reportPage(text), 'text/html; charset=utf-8'),
      () => send(404, `the report of run ${run} is no longer on disk\n`, 'text/plain; charset=utf-8'),
    );
  };
  return [
    { path: '/reports/:run', method: ['GET'], handler: serve(false) },
    { path: '/reports/:run/incident', method: ['GET'], handler: serve(true) },
  ];
}
