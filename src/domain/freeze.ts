// Freeze windows: a minute that matches a window's cron expression is inside the freeze.
// Pure: node-cron only parses the expression; matching happens here, in the window's timezone.
import { parse } from 'node-cron';
import type { FreezeWindow } from './config-schema.js';
import type { Environment } from './types.js';

export interface ActiveFreeze {
  reason: string;
  cron: string;
  /** First minute after `at` outside every matching window (undefined if none within a week). */
  endsAt?: Date;
}

type Fields = ReturnType<typeof parse>;

// Building an Intl formatter is costly and the end of a freeze is found minute by minute: keep one per zone.
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Calendar fields of `date` in `timeZone` (UTC when none). */
function partsIn(date: Date, timeZone = 'UTC') {
  let fmt = formatters.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, fmt);
  }
  const p = Object.fromEntries(fmt.formatToParts(date).map((x) => [x.type, x.value]));
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(p.weekday!);
  return { minute: Number(p.minute), hour: Number(p.hour), day: Number(p.day), month: Number(p.month), weekday };
}

function matches(f: Fields, date: Date, timeZone?: string): boolean {
  const t = partsIn(date, timeZone);
  if (!f.minute.includes(t.minute) || !f.hour.includes(t.hour) || !f.month.includes(t.month)) return false;
  const dows = f.dayOfWeek.map((d) => (Number(d) === 7 ? 0 : Number(d)));
  const anyDom = f.dayOfMonth.length >= 31;
  const anyDow = new Set(dows).size >= 7;
  const domOk = f.dayOfMonth.map(Number).includes(t.day);
  const dowOk = dows.includes(t.weekday);
  // Classic cron: when both day fields are restricted, either may match.
  if (anyDom && anyDow) return true;
  if (anyDom) return dowOk;
  if (anyDow) return domOk;
  return domOk || dowOk;
}

/** The freeze in force for `environment` at `at`, if any, with when it ends. */
export function activeFreeze(windows: FreezeWindow[], environment: Environment, at: Date): ActiveFreeze | undefined {
  const relevant = windows.filter((w) => w.environments.includes(environment)).map((w) => ({ w, f: parse(w.cron) }));
  const inside = (d: Date) => relevant.find(({ w, f }) => matches(f, d, w.timezone));
  const hit = inside(at);
  if (!hit) return undefined;
  const minute = 60_000;
  let t = Math.floor(at.getTime() / minute) * minute + minute;
  for (let i = 0; i < 7 * 24 * 60; i++, t += minute) {
    if (!inside(new Date(t))) return { reason: hit.w.reason, cron: hit.w.cron, endsAt: new Date(t) };
  }
  return { reason: hit.w.reason, cron: hit.w.cron };
}

export function describeFreeze(f: ActiveFreeze): string {
  const until = f.endsAt ? ` until ${f.endsAt.toISOString().replace('T', ' ').slice(0, 16)} UTC` : '';
  return `Deploys are frozen${until}: ${f.reason}.`;
}
