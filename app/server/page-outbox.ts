// JSON messages to one control page, bounded whatever the OSC rate. A page that reads slower than
// the show changes gets the latest of each thing instead of a backlog: `param` coalesces per
// address, `stats`/`params`/`state`/`taps`/`hello` to the latest of their type, notices to a short
// list (oldest dropped, counted), and replies are kept (every command deserves its answer) but a
// page that lets too many pile up is closed. Messages wait while the socket holds more than
// HIGH_WATER bytes; one timer per page retries. A page stuck like that for too long is closed,
// never the show. Pictures go their own way (FrameStream); both share the socket's buffer.
import type { WebSocket } from 'ws';
import type { ServerMessage } from '../core/protocol.ts';

export interface OutboxLimits {
  /** Bytes the socket may hold before JSON waits (pictures are bounded by acks on their own). */
  highWater: number;
  /** Notices kept while the page is not reading; older ones are dropped and counted. */
  maxNotices: number;
  /** Replies waiting at once; more means the page sends commands and never reads the answers. */
  maxReplies: number;
  /** Coalesced messages waiting at once (one per parameter address, plus the singletons). */
  maxPending: number;
  /** How long a page may stay unable to take more (socket full or outbox over bound). */
  stuckMs: number;
  /** How often a held outbox looks at the socket again. */
  retryMs: number;
}

export const DEFAULT_OUTBOX_LIMITS: OutboxLimits = { highWater: 1 << 20, maxNotices: 64, maxReplies: 256, maxPending: 20_000, stuckMs: 15_000, retryMs: 16 };

/** WebSocket close code for "policy violation": the page did not keep up with what it asked for. */
export const CLOSE_NOT_READING = 1008;

type Entry = { kind: 'coalesced' | 'notice' | 'reply'; text: string };

/** Key under which a message replaces its predecessor; undefined for messages that are all kept. */
function coalesceKey(m: ServerMessage): string | undefined {
  switch (m.type) {
    case 'param':
      return `param ${m.address}`;
    case 'notice':
    case 'reply':
      return undefined;
    default:
      return m.type;
  }
}

/** Pending messages that a newer message of this type makes stale. */
function supersedes(m: ServerMessage, key: string): boolean {
  // A hello is everything the page knows: parameters, state and taps start over from it.
  if (m.type === 'hello') return key !== 'stats';
  // `params` carries every parameter's value: single pending values are older than it.
  if (m.type === 'params') return key.startsWith('param ');
  return false;
}

export class PageOutbox {
  /** Insertion order is send order: a re-pushed key moves to the end, after what it follows. */
  private readonly pending = new Map<string, Entry>();
  private notices = 0;
  private replies = 0;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private stuckSince: number | undefined;
  private closed = false;
  sent = 0;
  droppedNotices = 0;
  /** Drops the page has not been told about yet; said before the next notice it gets. */
  private unsaid = 0;
  coalesced = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly limits: OutboxLimits = DEFAULT_OUTBOX_LIMITS,
  ) {}

  /** Messages waiting now (for tests and stats). */
  get size(): number {
    return this.pending.size;
  }

  /** Queues one message; `text` is its JSON when the caller already has it (broadcasts). */
  push(m: ServerMessage, text = JSON.stringify(m)): void {
    if (this.closed) return;
    const key = coalesceKey(m);
    if (key !== undefined) {
      if (m.type === 'hello' || m.type === 'params') for (const k of [...this.pending.keys()]) if (this.pending.get(k)!.kind === 'coalesced' && supersedes(m, k)) this.pending.delete(k);
      if (this.pending.delete(key)) this.coalesced++;
      this.pending.set(key, { kind: 'coalesced', text });
    } else if (m.type === 'notice') {
      if (this.notices >= this.limits.maxNotices) this.dropOldest('notice');
      this.pending.set(`notice ${this.seq++}`, { kind: 'notice', text });
      this.notices++;
    } else {
      this.pending.set(`reply ${this.seq++}`, { kind: 'reply', text });
      this.replies++;
    }
    this.flush();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  private dropOldest(kind: 'notice'): void {
    for (const [k, e] of this.pending) {
      if (e.kind !== kind) continue;
      this.pending.delete(k);
      this.notices--;
      this.droppedNotices++;
      this.unsaid++;
      return;
    }
  }

  private overBound(): boolean {
    return this.pending.size > this.limits.maxPending;
  }

  private flush(): void {
    if (this.closed) return;
    const ws = this.ws;
    if (ws.readyState !== ws.OPEN) return;
    // Replies are never dropped, so their bound is a hard one: past it the page goes at once.
    if (this.replies > this.limits.maxReplies) return this.giveUp('too many unread replies');
    while (this.pending.size && ws.bufferedAmount < this.limits.highWater) {
      const [key, e] = this.pending.entries().next().value as [string, Entry];
      this.pending.delete(key);
      if (e.kind === 'notice') {
        this.notices--;
        if (this.unsaid) {
          ws.send(JSON.stringify({ type: 'notice', level: 'warning', text: `${this.unsaid} older notices were dropped while this page was not reading` } satisfies ServerMessage));
          this.unsaid = 0;
        }
      } else if (e.kind === 'reply') this.replies--;
      this.sent++;
      ws.send(e.text);
    }
    if (!this.pending.size && !this.overBound()) {
      this.stuckSince = undefined;
      return;
    }
    const now = Date.now();
    this.stuckSince ??= now;
    if (now - this.stuckSince >= this.limits.stuckMs) return this.giveUp('messages held too long');
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.limits.retryMs);
  }

  /** Closes the page, not the show; a socket too full for the close frame is cut shortly after. */
  private giveUp(why: string): void {
    const ws = this.ws;
    this.close();
    ws.close(CLOSE_NOT_READING, `page not reading: ${why}`);
    setTimeout(() => ws.terminate(), 2000).unref();
  }
}
