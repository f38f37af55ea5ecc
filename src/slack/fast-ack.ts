// Requests whose answer carries nothing, button presses (block_actions) and Events API callbacks,
// are answered 200 as soon as their signature is verified, and handed to Bolt when the door is
// quiet (door.ts): Slack reads nothing from those answers, and Bolt's own HTTP path costs about
// 1 ms a request, so the hundredth of 100 presses at once waited ~150 ms for its ack behind the
// others. Commands and view submissions still go through Bolt: their ack can carry a reply or
// a form's errors.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type App, HTTPModuleFunctions } from '@slack/bolt';
import type { Door } from './door.js';

/** Whether a verified request's answer carries nothing Slack reads. */
export function answerless(body: Record<string, unknown>): boolean {
  return body.type === 'block_actions' || body.type === 'event_callback';
}

/**
 * Answers a verified, answerless request at once and gives it to Bolt once the door is quiet,
 * with an ack that has nothing left to send. Bolt's errors go to `onError`, as they would have.
 */
export function ackAtOnce(
  app: App,
  door: Door,
  onError: (err: unknown) => void,
): (req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>) => void {
  return (req, res, body) => {
    res.writeHead(200).end();
    const event = {
      body,
      ack: async () => {},
      retryNum: HTTPModuleFunctions.extractRetryNumFromHTTPRequest(req),
      retryReason: HTTPModuleFunctions.extractRetryReasonFromHTTPRequest(req),
      customProperties: {},
    };
    door.later(() => {
      app.processEvent(event).catch(onError);
    });
  };
}
