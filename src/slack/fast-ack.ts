// Requests whose answer carries nothing, button presses (block_actions) and Events API callbacks,
// are answered 200 as soon as their signature is verified, and handed to Bolt when the door is
// quiet (door.ts): Slack reads nothing from those answers, and Bolt's own HTTP path costs about
// 1 ms a request, so the hundredth of 100 presses at once waited ~150 ms for its ack behind the
// others. Commands and view submissions still go through Bolt: their ack can carry a reply or
// a form's errors.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type App, HTTPModuleFunctions } from '@slack/bolt';
import type { Read } from './body-guard.js';
import type { Door } from './door.js';

/** Whether the answer to a verified request of this type carries nothing Slack reads. */
export function answerless(type: string): boolean {
  return type === 'block_actions' || type === 'event_callback';
}

/**
 * Answers a verified, answerless request at once and, once the door is quiet, reads it and gives
 * it to Bolt with an ack that has nothing left to send. Bolt's errors go to `onError`, as they
 * would have; so does a body that turns out not to be what its first bytes said (Slack signed it,
 * so this is not expected; it goes no further).
 */
export function ackAtOnce(
  app: App,
  door: Door,
  onError: (err: unknown) => void,
): (req: IncomingMessage, res: ServerResponse, type: string, read: () => Read) => void {
  return (req, res, type, read) => {
    res.writeHead(200, { 'content-length': 0 }).end();
    const retryNum = HTTPModuleFunctions.extractRetryNumFromHTTPRequest(req);
    const retryReason = HTTPModuleFunctions.extractRetryReasonFromHTTPRequest(req);
    door.later(() => {
      const r = read();
      if ('problem' in r || r.body.type !== type)
        return onError(new Error(`a signed ${type} request answered 200 was not one: ${'problem' in r ? r.problem : r.body.type}`));
      app.processEvent({ body: r.body, ack: async () => {}, retryNum, retryReason, customProperties: {} }).catch(onError);
    });
  };
}
