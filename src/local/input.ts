// What the workspace page may send, validated once at the edge (zod), and the small text rule
// that turns a typed `@shipbot` into the mention Slack would deliver.
import { z } from 'zod';

const User = z.string().min(1).max(64);
const Ts = z.string().regex(/^\d+\.\d+$/, 'must be a Slack timestamp like 1700000000.000100');
const ViewValue = z.union([z.string(), z.array(z.string()), z.null()]);

export const ApiInput = z.discriminatedUnion('path', [
  z.object({
    path: z.literal('/api/send'),
    body: z.object({ user: User, channel: z.string().min(1), text: z.string().min(1).max(4000), threadTs: Ts.optional() }),
  }),
  z.object({
    path: z.literal('/api/click'),
    body: z.object({ user: User, messageTs: Ts, actionId: z.string().min(1), value: z.string().optional() }),
  }),
  z.object({
    path: z.literal('/api/view/submit'),
    body: z.object({ user: User, viewId: z.string().min(1), values: z.record(z.string(), ViewValue).default({}) }),
  }),
  z.object({
    path: z.literal('/api/view/change'),
    body: z.object({
      user: User,
      viewId: z.string().min(1),
      actionId: z.string().min(1),
      value: z.union([z.string(), z.array(z.string())]),
    }),
  }),
  z.object({ path: z.literal('/api/view/close'), body: z.object({ viewId: z.string().min(1) }) }),
]);
export type ApiInput = z.infer<typeof ApiInput>;

/** `@shipbot deploy …` typed on the page becomes `<@U_SHIPBOT> deploy …`, as Slack encodes mentions. */
export function toSlackText(text: string, botUserId: string): string {
  return text.replace(/(^|\s)@shipbot\b/gi, `$1<@${botUserId}>`);
}
