// Slack's Socket Mode, for the double: `apps.connections.open` hands out a ws:// URL on the
// double's own HTTP server, where a minimal WebSocket endpoint (RFC 6455 text frames, ping/pong,
// close; no extensions) says `hello` and carries envelopes both ways: events, slash commands and
// interactions out, acknowledgements (with their response payloads) back.
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export type EnvelopeType = 'events_api' | 'slash_commands' | 'interactive';

interface Pending {
  resolve: (payload: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

class Connection {
  private buffer = Buffer.alloc(0);
  private pinger: NodeJS.Timeout;
  closed = false;

  constructor(
    private readonly socket: Duplex,
    private readonly onText: (text: string) => void,
    private readonly onClose: () => void,
  ) {
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('close', () => this.end());
    socket.on('error', () => this.end());
    // Slack pings the client; Slack's SDK reconnects when no ping arrives for 30 s.
    this.pinger = setInterval(() => this.frame(0x9, Buffer.from('ping')), 10_000);
  }

  sendText(text: string): void {
    this.frame(0x1, Buffer.from(text, 'utf8'));
  }

  close(): void {
    this.frame(0x8, Buffer.alloc(0));
    this.socket.end();
    this.end();
  }

  private end(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pinger);
    this.onClose();
  }

  private frame(opcode: number, payload: Buffer): void {
    if (this.closed || this.socket.destroyed) return;
    const len = payload.length;
    const head = len < 126 ? Buffer.from([0x80 | opcode, len]) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
    if (len >= 126 && len < 65536) {
      head[0] = 0x80 | opcode;
      head[1] = 126;
      head.writeUInt16BE(len, 2);
    } else if (len >= 65536) {
      head[0] = 0x80 | opcode;
      head[1] = 127;
      head.writeBigUInt64BE(BigInt(len), 2);
    }
    this.socket.write(Buffer.concat([head, payload]));
  }

  /** Client frames are masked; messages here are small, so fragmented frames are joined simply. */
  private fragments: Buffer[] = [];

  private read(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) return;
      const fin = (this.buffer[0]! & 0x80) !== 0;
      const opcode = this.buffer[0]! & 0x0f;
      const masked = (this.buffer[1]! & 0x80) !== 0;
      let len = this.buffer[1]! & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (this.buffer.length < 4) return;
        len = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (this.buffer.length < 10) return;
        len = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const maskLen = masked ? 4 : 0;
      if (this.buffer.length < offset + maskLen + len) return;
      const mask = masked ? this.buffer.subarray(offset, offset + 4) : undefined;
      const payload = Buffer.from(this.buffer.subarray(offset + maskLen, offset + maskLen + len));
      if (mask) for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
      this.buffer = this.buffer.subarray(offset + maskLen + len);
      if (opcode === 0x8) return this.close();
      if (opcode === 0x9) this.frame(0xa, payload);
      else if (opcode === 0x1 || opcode === 0x0) {
        this.fragments.push(payload);
        if (fin) {
          const text = Buffer.concat(this.fragments).toString('utf8');
          this.fragments = [];
          this.onText(text);
        }
      }
    }
  }
}

export class SocketModeServer {
  private connections = new Set<Connection>();
  private pending = new Map<string, Pending>();
  private waiters: Array<() => void> = [];

  constructor(private readonly appId: string) {}

  get connected(): boolean {
    return this.connections.size > 0;
  }

  /** Resolves once an app is connected (after `hello`). */
  whenConnected(): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** For the HTTP server's `upgrade` event on the socket path. */
  upgrade(req: IncomingMessage, socket: Duplex): void {
    const key = req.headers['sec-websocket-key'];
    if (typeof key !== 'string') {
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const accept = createHash('sha1')
      .update(key + GUID)
      .digest('base64');
    socket.write(
      ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${accept}`, '', ''].join(
        '\r\n',
      ),
    );
    const conn: Connection = new Connection(
      socket,
      (text) => this.onMessage(text),
      () => this.connections.delete(conn),
    );
    this.connections.add(conn);
    conn.sendText(
      JSON.stringify({
        type: 'hello',
        num_connections: this.connections.size,
        debug_info: { host: 'slack-double' },
        connection_info: { app_id: this.appId },
      }),
    );
    for (const w of this.waiters.splice(0)) w();
  }

  /** Sends an envelope and resolves with the app's acknowledgement payload. */
  send(type: EnvelopeType, payload: unknown, opts: { retryAttempt?: number; retryReason?: string } = {}): Promise<unknown> {
    const conn = [...this.connections][0];
    if (!conn) return Promise.reject(new Error('Slack double: no Socket Mode connection; start the app first'));
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`Slack double: envelope ${id} (${type}) was not acknowledged within 3 s`));
      }, 3000);
      this.pending.set(id, { resolve, reject, timer });
      conn.sendText(
        JSON.stringify({
          envelope_id: id,
          type,
          payload,
          accepts_response_payload: type !== 'events_api',
          ...(type === 'events_api' ? { retry_attempt: opts.retryAttempt ?? 0, retry_reason: opts.retryReason ?? '' } : {}),
        }),
      );
    });
  }

  close(): void {
    for (const c of this.connections) c.close();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('Slack double closed'));
    }
    this.pending.clear();
  }

  private onMessage(text: string): void {
    let msg: { envelope_id?: string; payload?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return;
    }
    const p = msg.envelope_id ? this.pending.get(msg.envelope_id) : undefined;
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(msg.envelope_id!);
    p.resolve(msg.payload);
  }
}
