// The Slack side of the button bench, in a process of its own as Slack is: the Web API double
// and its driver, told over IPC what to do. Its signing, sending and timing do not share an event
// loop with the app it measures.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { REQUEST_ACTIONS } from '../src/slack/blocks/request.js';
import type { RawAnswer, Transport } from '../src/slack/double/transport.js';
import type { BurstReply, BurstRequest } from './slack-sender.js';
import { startSlackDouble } from '../src/slack/double/index.js';

export type SlackSideRequest =
  | { kind: 'connect'; url: string }
  | { kind: 'requests'; n: number }
  | { kind: 'press'; replyTs: string[]; url?: string }
  | { kind: 'close' };

export type SlackSideReply =
  | { kind: 'ready'; apiUrl: string; botToken: string; signingSecret: string }
  | { kind: 'connected' }
  | { kind: 'requests'; replyTs: string[] }
  | { kind: 'press'; acks: number[]; statuses: number[]; opened: number };

const send = (m: SlackSideReply) => process.send!(m);
const double = await startSlackDouble();
send({ kind: 'ready', apiUrl: double.apiUrl, botToken: double.botToken, signingSecret: double.signingSecret });

process.on('message', async (m: SlackSideRequest) => {
  switch (m.kind) {
    case 'connect':
      double.connect(m.url);
      return send({ kind: 'connected' });
    case 'requests': {
      // Requests to press Configure… on: each answered in its thread with the proposal.
      const replyTs: string[] = [];
      for (let i = 0; i < m.n; i++) {
        const { ts } = await double.postUserMessage('U_DEV', 'deploys', `<@U0SHIPBOT> deploy checkout v1.${i}.0 canary`);
        let reply: ReturnType<typeof double.messages>[number] | undefined;
        while (!(reply = double.messages('deploys', ts).find((x) => x.botId && x.ts !== ts))) await new Promise((r) => setTimeout(r, 1));
        replyTs.push(reply.ts);
      }
      return send({ kind: 'requests', replyTs });
    }
    case 'press': {
      // Everyone presses at the same moment: all presses are built and signed here, then sent at
      // once by a process of their own (bench/slack-sender.ts), as from Slack's many machines, each
      // timed there from its send to its HTTP answer. This process meanwhile serves views.open.
      const before = double.openViews('U_DEV').length;
      const appUrl = double.driver.appUrl;
      if (m.url) double.driver.appUrl = m.url;
      const burst = collect(m.replyTs.length);
      double.driver.useTransport(burst.transport);
      const results = await Promise.all(m.replyTs.map((ts) => double.clickButton('U_DEV', ts, REQUEST_ACTIONS.configure)));
      double.driver.useTransport(undefined);
      double.driver.appUrl = appUrl;
      const pressedAt = burst.sentAt();
      // The modals open after the acks. The double refuses a trigger_id older than 3 s, as Slack
      // does, so every modal that opened opened in time.
      const opened = () => double.openViews('U_DEV').length - before;
      while (!m.url && opened() < m.replyTs.length && performance.now() - pressedAt < 3500) await new Promise((r) => setTimeout(r, 5));
      return send({ kind: 'press', acks: results.map((r) => r.ms!), statuses: results.map((r) => r.status), opened: opened() });
    }
    case 'close':
      await double.close();
      process.exit(0);
  }
});

/**
 * A transport that holds `n` requests and, once all are built, has the sender process send them
 * at once; each answer comes back with the time the sender measured.
 */
function collect(n: number): { transport: Transport; sentAt: () => number } {
  const held: Array<{ url: string; headers: Record<string, string>; body: string; answer: (a: RawAnswer) => void }> = [];
  let firedAt = 0;
  const transport: Transport = (url, headers, body) => {
    let answer!: (a: RawAnswer) => void;
    const answered = new Promise<RawAnswer>((r) => (answer = r));
    held.push({ url, headers, body, answer });
    if (held.length === n) {
      firedAt = performance.now();
      const sender = fork(fileURLToPath(new URL('./slack-sender.ts', import.meta.url)), { execArgv: ['--import', 'tsx'] });
      sender.send({ requests: held.map(({ url: u, headers: h, body: b }) => ({ url: u, headers: h, body: b })) } satisfies BurstRequest);
      sender.once('message', (m: BurstReply) => {
        m.answers.forEach((a, i) => held[i]!.answer(a));
        sender.kill();
      });
    }
    return () => answered;
  };
  return { transport, sentAt: () => firedAt };
}
