// The Slack app (Bolt 5). Socket Mode when SLACK_APP_TOKEN is set; otherwise HTTP mode, with
// Slack's requests arriving at `POST /slack/events` on PORT and their signatures verified.
// SLACK_API_URL points the Web API client elsewhere (the local double in tests and local mode).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import { WebClient, type WebClientOptions } from '@slack/web-api';
import type { Logger } from '../log.js';
import { guardBodies } from './body-guard.js';
import { actOnce } from './dedupe.js';
import { Door } from './door.js';
import { ackAtOnce, answerless } from './fast-ack.js';
import { createContext, type SlackContext } from './context.js';
import type { SlackAppDeps } from './deps.js';
import { registerMessageListeners } from './listeners/messages.js';
import { registerModalListeners } from './listeners/modal.js';
import { registerRequestListeners } from './listeners/request.js';
import { registerRunListeners } from './listeners/runs.js';
import type { QueueOptions } from './progress-queue.js';
import { SlackRuns } from './runs.js';

type BoltApp = App;

export interface SlackAppOptions extends SlackAppDeps {
  /** Progress-edit pacing; tests shorten it. Defaults: 1 edit/s per message, 50 chat.update/min in all. */
  progress?: Partial<QueueOptions>;
  /** HTTP mode's interface. Default: all, since Slack must reach it; local mode keeps it on loopback. */
  host?: string;
  /** Extra HTTP routes beside /slack/events in HTTP mode (the probes). */
  routes?: Array<{ path: string; method: string[]; handler: (req: IncomingMessage, res: ServerResponse) => void }>;
  /** Called once per Web API call with its result, for Shipbot's own metrics. */
  onApiCall?: (method: string, status: 'ok' | 'error' | 'rate_limited') => void;
  /** Runner-clock moment this process started: restart notes from then on are told in their threads. */
  restartsSince?: number;
}

/**
 * A fetch for the Web API clients that counts every HTTP call by method and result: every client
 * Bolt makes (one per token) is built from the same options, so none is missed.
 */
function countingFetch(onApiCall: NonNullable<SlackAppOptions['onApiCall']>): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const method = url.pathname.split('/').filter(Boolean).at(-1) ?? 'unknown';
    try {
      const res = await fetch(input, init);
      if (res.status === 429) onApiCall(method, 'rate_limited');
      else {
        const ok =
          res.ok &&
          (
            (await res
              .clone()
              .json()
              .catch(() => ({}))) as { ok?: boolean }
          ).ok === true;
        onApiCall(method, ok ? 'ok' : 'error');
      }
      return res;
    } catch (err) {
      onApiCall(method, 'error');
      throw err;
    }
  }) as typeof fetch;
}

export interface SlackApp {
  app: BoltApp;
  context: SlackContext;
  runs: SlackRuns;
  /** Starts listening; in HTTP mode resolves with the address (PORT=0 picks a free port). */
  start(): Promise<{ mode: 'socket' | 'http'; port?: number; host?: string }>;
  /** auth.test only: throws while Slack cannot be reached or the token is wrong. */
  init(): Promise<void>;
  stop(): Promise<void>;
}

/** Bolt and the Web API client log through pino (tokens are redacted there). */
function slackLogger(logger: Logger) {
  const log = logger.child({ component: 'slack' });
  let level: LogLevel = LogLevel.INFO;
  return {
    debug: (...m: unknown[]) => log.debug(m.map(String).join(' ')),
    info: (...m: unknown[]) => log.info(m.map(String).join(' ')),
    warn: (...m: unknown[]) => log.warn(m.map(String).join(' ')),
    error: (...m: unknown[]) => log.error(m.map(String).join(' ')),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

export function createSlackApp(opts: SlackAppOptions): SlackApp {
  const { env, config, runner, logger } = opts;
  if (!env.SLACK_BOT_TOKEN)
    throw new Error(
      'SLACK_BOT_TOKEN is not set: create the app from manifest.yml, install it, and copy its Bot User OAuth Token (xoxb-…).',
    );
  const socket = !!env.SLACK_APP_TOKEN;
  if (!socket && !env.SLACK_SIGNING_SECRET) {
    throw new Error(
      'Set SLACK_APP_TOKEN (xapp-…, Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode, POST /slack/events) so Slack can reach Shipbot.',
    );
  }
  const log = slackLogger(logger);
  // Calls made while handling a request: a couple of quick retries, and a 429 comes back to the
  // caller instead of pausing this client's whole queue (which would also hold views.open past
  // its 3 s trigger_id).
  const clientOptions: WebClientOptions = {
    slackApiUrl: env.SLACK_API_URL,
    retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 2000 },
    rejectRateLimitedCalls: true,
    timeout: 10_000,
    logger: log,
    ...(opts.onApiCall ? { fetch: countingFetch(opts.onApiCall) as unknown as WebClientOptions['fetch'] } : {}),
  };
  // HTTP mode: our own receiver, so its request listener can be guarded (body-guard.ts).
  const receiver = socket
    ? undefined
    : new HTTPReceiver({
        signingSecret: env.SLACK_SIGNING_SECRET!,
        endpoints: '/slack/events',
        port: env.PORT,
        logger: log,
        ...(opts.routes ? { customRoutes: opts.routes } : {}),
      });
  // Acks of a burst go out before the work they start (door.ts).
  const door = new Door();
  let atOnce: ReturnType<typeof ackAtOnce> | undefined;
  if (receiver) {
    const guarded = guardBodies(receiver.requestListener, {
      signingSecret: env.SLACK_SIGNING_SECRET!,
      onError: (err) => logger.error({ err }, 'a Slack request failed inside Bolt; answered 500'),
      // Presses and events are answered on arrival (fast-ack.ts).
      answer: (req, res, type, read) => {
        if (!atOnce || !answerless(type)) return false;
        atOnce(req, res, type, read);
        return true;
      },
    });
    receiver.requestListener = (req, res) => {
      door.arrived(res);
      return guarded(req, res);
    };
  }
  const app = new App({
    token: env.SLACK_BOT_TOKEN,
    logger: log,
    clientOptions,
    ignoreSelf: true,
    // auth.test runs in start(), where its failure is an error the caller handles (and retries):
    // run in the constructor, a Slack that cannot be reached ended the process.
    deferInitialization: true,
    ...(socket
      ? // The Socket Mode client opens its connection through its own Web API client (installerOptions).
        { socketMode: true, appToken: env.SLACK_APP_TOKEN, installerOptions: { clientOptions: { slackApiUrl: env.SLACK_API_URL } } }
      : { receiver: receiver! }),
  });
  // Progress edits have their own client: their scheduler decides about 429s (see progress.ts).
  const progressClient = new WebClient(env.SLACK_BOT_TOKEN, {
    ...clientOptions,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  });
  const runs = new SlackRuns({
    client: app.client,
    progressClient,
    runner,
    config,
    logger,
    queue: opts.progress,
    ...(opts.restartsSince !== undefined ? { restartsSince: opts.restartsSince } : {}),
    ...(opts.clockSpeed !== undefined ? { clockSpeed: opts.clockSpeed } : {}),
    ...(env.SHIPBOT_PUBLIC_URL ? { publicUrl: env.SHIPBOT_PUBLIC_URL } : {}),
  });
  const context = createContext(
    {
      config,
      runner,
      logger,
      llm: opts.llm,
      ...(opts.scheduling ? { scheduling: opts.scheduling } : {}),
      now: opts.now ?? (() => new Date()),
      client: app.client,
      runs,
    },
    opts.seen,
  );
  atOnce = ackAtOnce(app, door, (err) => logger.error({ err }, 'a Slack request failed inside Bolt after its answer'));
  // Every ack Bolt sends (commands, view submissions) returns when the door is quiet.
  const processEvent = app.processEvent.bind(app);
  app.processEvent = (event) =>
    processEvent({
      ...event,
      ack: async (response) => {
        await event.ack(response);
        await door.quiet();
      },
    });
  app.use(actOnce(context));
  registerMessageListeners(app, context);
  registerRequestListeners(app, context);
  registerModalListeners(app, context);
  registerRunListeners(app, context);
  app.error(async (err) => {
    logger.error({ err, code: (err as { code?: string }).code }, 'Slack listener failed');
  });

  return {
    app,
    context,
    runs,
    init: () => app.init(),
    async start() {
      await app.init();
      runs.listen();
      if (socket) {
        await app.start();
        return { mode: 'socket' };
      }
      const server = (await app.start(opts.host ? { port: env.PORT, host: opts.host } : env.PORT)) as Server;
      const { port, address } = server.address() as AddressInfo;
      return { mode: 'http', port, host: address };
    },
    async stop() {
      runs.stop();
      await app.stop();
    },
  };
}
