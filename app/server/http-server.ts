// HTTP + WebSocket edge of a live session: the UI pages, the picture stream and the command
// channel on /ws, and OSCQuery for every other request. Loopback by default; a LAN bind needs a
// token, because anyone on the network could otherwise drive the show.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { LiveSession } from './live-session.ts';
import { FrameStream } from './frame-stream.ts';
import { PageOutbox } from './page-outbox.ts';
import { STATS_INTERVAL_MS, type ServerMessage } from '../core/protocol.ts';
import { parseIncoming } from './commands.ts';
import { originGuard } from './origin-guard.ts';

export interface ServerOptions {
  session: LiveSession;
  port: number;
  host?: string;
  /** Required when host is not loopback; generated when absent. */
  token?: string;
  /** OSCQuery and other handlers: return true when they answered. */
  handlers?: Array<(req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>>;
  upgrades?: Array<(req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => boolean>;
  /** Origins besides our own pages that may open WebSockets and change things (--allow-origin). */
  allowOrigins?: string[];
}

export interface RunningServer {
  url: string;
  port: number;
  token: string | undefined;
  close(): Promise<void>;
}

type UiFiles = Map<string, { type: string; body: Uint8Array | string }>;

/** The UI is bundled in memory at start; if that fails the show still runs (OSC, MIDI, /ws). */
async function loadUi(session: LiveSession): Promise<UiFiles> {
  try {
    const { buildUi } = (await import('./ui-build.ts')) as { buildUi: () => Promise<UiFiles> };
    return await buildUi();
  } catch (err) {
    const text = `netbend: the control UI could not be built (${(err as Error).message.split('\n')[0]}); OSC, MIDI and the engine run on.`;
    session.notice('error', text);
    const page = { type: 'text/html; charset=utf-8', body: `<!doctype html><title>netbend</title><pre>${text.replace(/</g, '&lt;')}</pre>` };
    return new Map([
      ['/', page],
      ['/output', page],
    ]);
  }
}

const isLoopback = (host: string) => host === '127.0.0.1' || host === 'localhost' || host === '::1';
/** Methods that only read; anything else changes state and must come from a trusted page. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/**
 * The largest message a page legitimately sends is a command: small JSON (a parameter set, a preset
 * name, a partner path of at most a few KiB, a list of layer names), or a block of audio (at most
 * 8192 samples: 32 KiB and a header). 64 KiB leaves room for all of them while keeping what one
 * hostile client can make us buffer small.
 */
const MAX_CLIENT_MESSAGE = 64 * 1024;

/** Answers an upgrade with a plain HTTP error, before any WebSocket handshake. */
function refuseUpgrade(socket: import('node:stream').Duplex, status: 401 | 403 | 404, text: string): void {
  const body = `netbend: ${text}\n`;
  const reason = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }[status];
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const token = isLoopback(host) ? undefined : (opts.token ?? randomBytes(12).toString('hex'));
  const session = opts.session;
  const ui = await loadUi(session);
  const origins = originGuard({ allow: opts.allowOrigins, loopbackBind: isLoopback(host), refused: (text) => session.notice('warning', text) });

  const authorised = (req: IncomingMessage): boolean => {
    if (!token) return true;
    const url = new URL(req.url ?? '/', 'http://x');
    const given = url.searchParams.get('token') ?? /(?:^|;\s*)netbend_token=([^;]+)/.exec(req.headers.cookie ?? '')?.[1] ?? '';
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  };

  const server = createServer(async (req, res) => {
    try {
      // Set before the handlers, so every answer (OSCQuery's JSON included) carries our CORS policy.
      const cors = origins.corsOrigin(req);
      if (cors) res.setHeader('access-control-allow-origin', cors);
      res.setHeader('vary', 'Origin');
      if (!SAFE_METHODS.has(req.method ?? 'GET') && !origins.check(req, `${req.method} ${(req.url ?? '/').split('?')[0]}`)) {
        res.writeHead(403, { 'content-type': 'text/plain' }).end("netbend: refused: this page is not netbend's own (see --allow-origin)\n");
        return;
      }
      if (!authorised(req)) {
        res.writeHead(401, { 'content-type': 'text/plain' }).end('netbend: add ?token=... to the URL\n');
        return;
      }
      const url = new URL(req.url ?? '/', 'http://x');
      const wantsHtml = (req.headers.accept ?? '').includes('text/html');
      const page = ui.get(url.pathname);
      // OSCQuery clients ask for `/` too; browsers say they want HTML, OSCQuery clients do not.
      if (page && req.method === 'GET' && (url.pathname.startsWith('/assets/') || wantsHtml)) {
        const headers: Record<string, string> = { 'content-type': page.type, 'cache-control': 'no-cache' };
        if (token) headers['set-cookie'] = `netbend_token=${token}; SameSite=Strict; HttpOnly`;
        res.writeHead(200, headers).end(page.body);
        return;
      }
      for (const h of opts.handlers ?? []) if (await h(req, res)) return;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`netbend: ${(err as Error).message}\n`);
    }
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE });
  // With noServer nothing should reach this, but an unhandled 'error' would end the show.
  wss.on('error', (err) => session.notice('warning', `WebSocket server: ${err.message}`));
  server.on('upgrade', (req, socket, head) => {
    // Node takes its own error handler off an upgraded socket: a client resetting the connection
    // before a WebSocket owns it would otherwise be an uncaught 'error' that ends the process.
    socket.on('error', () => {});
    // Both WebSockets (/ws and OSCQuery's) are checked here, before any handshake completes.
    if (!origins.check(req, 'a WebSocket connection')) return refuseUpgrade(socket, 403, "refused: this page is not netbend's own (see --allow-origin)");
    if (!authorised(req)) return refuseUpgrade(socket, 401, 'add ?token=... to the URL');
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/ws') return wss.handleUpgrade(req, socket, head, (ws) => client(ws));
    for (const u of opts.upgrades ?? []) if (u(req, socket, head)) return;
    refuseUpgrade(socket, 404, `no WebSocket at ${path}`);
  });

  const clients = new Set<Client>();
  // Serialised once for every page; each page's outbox decides what of it still needs sending.
  const broadcast = (m: ServerMessage) => {
    if (!clients.size) return;
    const text = JSON.stringify(m);
    for (const c of clients) c.outbox.push(m, text);
  };
  const offs = [
    session.params.on('change', (c) => broadcast({ type: 'param', address: c.address, value: c.value, source: c.source })),
    session.params.on('define', () => scheduleParams()),
    session.params.on('remove', () => scheduleParams()),
    session.on('notice', (n) => broadcast({ type: 'notice', ...n })),
    session.on('state', () => broadcast(session.state())),
    // A new model: every page starts over with its layers, size and parameters.
    session.on('model', () => {
      for (const c of clients) {
        c.wants = [];
        c.outbox.push(session.hello());
        sendTaps(c);
      }
    }),
    session.on('frame', (f) => {
      for (const c of clients) c.stream.push(f);
    }),
  ];
  let paramsTimer: NodeJS.Timeout | undefined;
  const scheduleParams = () => {
    paramsTimer ??= setTimeout(() => {
      paramsTimer = undefined;
      broadcast({ type: 'params', params: session.paramInfo() });
    }, 20);
  };
  const statsTimer = setInterval(() => broadcast({ type: 'stats', stats: session.stats() }), STATS_INTERVAL_MS);

  type Client = { ws: WebSocket; stream: FrameStream; outbox: PageOutbox; wants: string[]; ended(text: string): void };
  /** Each page gets the taps it asked for (an /output page none); the engine taps their union. */
  const sendTaps = (c: Client) => {
    const layers = session.engine.tapped().filter((l) => c.wants.includes(l));
    c.stream.taps = new Map(layers.map((l, i) => [l, i + 1]));
    const shapeOf = (l: string) => session.engine.tree.resolve(l).outputShape?.map((d) => (typeof d === 'number' ? d : 0)) ?? [];
    c.outbox.push({ type: 'taps', taps: layers.map((l, i) => ({ id: i + 1, layer: l, shape: shapeOf(l) })) });
  };
  const retap = async (): Promise<string[]> => {
    const union = [...new Set([...clients].flatMap((c) => c.wants))];
    await session.command({ cmd: 'setTaps', layers: union });
    for (const c of clients) sendTaps(c);
    return union;
  };

  function client(ws: WebSocket): void {
    const c: Client = { ws, stream: new FrameStream(ws), outbox: new PageOutbox(ws), wants: [], ended: (text) => c.outbox.push({ type: 'capture', on: false, text }) };
    clients.add(c);
    c.outbox.push(session.hello());
    sendTaps(c);
    // A page opened while paused (a second output window, say) shows the held picture at once.
    const held = session.loop.lastFrame;
    if (held) c.stream.push(held);
    ws.on('close', () => {
      c.stream.close();
      c.outbox.close();
      clients.delete(c);
      session.audio.stop(c);
      if (c.wants.length) void retap().catch(() => {});
    });
    // A bad frame (invalid UTF-8, reserved opcode, too big...) is an 'error' here; ws then closes
    // this client with the matching code (1002, 1007, 1009). Handled, it never reaches the process.
    ws.on('error', () => {});
    const told = new Set<string>();
    /** Junk gets one notice per kind per page, not one per message: a flood stays a trickle. */
    const tellOnce = (why: string) => {
      const kind = why.split(':')[0]!;
      if (told.has(kind)) return;
      told.add(kind);
      c.outbox.push({ type: 'notice', level: 'error', text: `bad message: ${why} (more like it from this page are ignored)` });
    };
    ws.on('message', (data, binary) => {
      try {
        receive(data, binary);
      } catch (err) {
        // A listener that throws would throw out of ws's frame parser and end the process.
        session.notice('error', `a page's message could not be handled: ${(err as Error).message}`);
      }
    });
    function receive(data: import('ws').RawData, binary: boolean): void {
      // The one binary message a page sends: a block of its audio capture (app/core/pcm-frame.ts).
      if (binary) {
        const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
        const why = session.audio.push(c, bytes);
        return why ? tellOnce(why) : undefined;
      }
      const m = parseIncoming(String(data));
      if (m.kind === 'ack') return c.stream.ack();
      if (m.kind === 'preview') return void (c.stream.previewSide = m.preview.preview);
      if (m.kind === 'junk') return tellOnce(m.why);
      const reply = (r: { ok: true; result: unknown } | { ok: false; error: string }) => c.outbox.push({ type: 'reply', id: m.id, ...r });
      if (m.kind === 'bad-command') return reply({ ok: false, error: m.error });
      const msg = m.command;
      // Every failure of a command becomes its reply; nothing thrown here reaches the process.
      void (async () => {
        let result: unknown;
        if (msg.cmd === 'setTaps') {
          // Resolve names first, so a bad layer is refused before anything changes.
          const layers = msg.layers.map((l) => session.engine.tree.resolve(l).path);
          const before = c.wants;
          c.wants = layers;
          try {
            await retap();
          } catch (err) {
            c.wants = before;
            throw err;
          }
          result = layers;
        } else if (msg.cmd === 'audioCapture') {
          if (msg.on) session.audio.start(c, msg.takeover);
          else session.audio.stop(c);
          result = msg.on;
        } else result = await session.command(msg);
        reply({ ok: true, result });
      })().catch((err: unknown) => {
        try {
          reply({ ok: false, error: err instanceof Error ? err.message : String(err) });
        } catch {
          /* the page is gone: nobody to tell */
        }
      });
    }
  }

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  // Once listening, an error (out of file descriptors under a connection flood, say) is news for
  // the performer, not the end of the show.
  server.on('error', (err) => session.notice('error', `HTTP server: ${err.message}`));
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/${token ? `?token=${token}` : ''}`,
    port,
    token,
    close: async () => {
      clearInterval(statsTimer);
      clearTimeout(paramsTimer);
      offs.forEach((off) => off());
      for (const c of clients) {
        c.outbox.close();
        c.ws.terminate();
      }
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
