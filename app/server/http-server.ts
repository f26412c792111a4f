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
import { STATS_INTERVAL_MS, type ClientMessage, type ServerMessage } from './protocol.ts';

export interface ServerOptions {
  session: LiveSession;
  port: number;
  host?: string;
  /** Required when host is not loopback; generated when absent. */
  token?: string;
  /** OSCQuery and other handlers: return true when they answered. */
  handlers?: Array<(req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>>;
  upgrades?: Array<(req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => boolean>;
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
    const { buildUi } = (await import('../ui/build.ts')) as { buildUi: () => Promise<UiFiles> };
    return await buildUi();
  } catch (err) {
    const text = `netbend: the control UI could not be built (${(err as Error).message.split('\n')[0]}); OSC, MIDI and the engine run on.`;
    session.notice('error', text);
    const page = { type: 'text/html; charset=utf-8', body: `<!doctype html><title>netbend</title><pre>${text.replace(/</g, '&lt;')}</pre>` };
    return new Map([['/', page], ['/output', page]]);
  }
}

const isLoopback = (host: string) => host === '127.0.0.1' || host === 'localhost' || host === '::1';

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const token = isLoopback(host) ? undefined : (opts.token ?? randomBytes(12).toString('hex'));
  const session = opts.session;
  const ui = await loadUi(session);

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

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  server.on('upgrade', (req, socket, head) => {
    if (!authorised(req)) return socket.destroy();
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/ws') return wss.handleUpgrade(req, socket, head, (ws) => client(ws));
    for (const u of opts.upgrades ?? []) if (u(req, socket, head)) return;
    socket.destroy();
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

  type Client = { ws: WebSocket; stream: FrameStream; outbox: PageOutbox; wants: string[] };
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
    const c: Client = { ws, stream: new FrameStream(ws), outbox: new PageOutbox(ws), wants: [] };
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
      if (c.wants.length) void retap().catch(() => {});
    });
    ws.on('message', async (data, binary) => {
      if (binary) return;
      let msg: ClientMessage;
      try {
        msg = JSON.parse(String(data));
      } catch {
        c.outbox.push({ type: 'notice', level: 'error', text: 'bad message: not JSON' });
        return;
      }
      if (typeof msg !== 'object' || msg === null) return;
      if ('ack' in msg) return c.stream.ack();
      try {
        let result: unknown;
        if (msg.cmd === 'setTaps') {
          // Resolve names first, so a bad layer is refused before anything changes.
          const layers = (Array.isArray(msg.layers) ? msg.layers : []).map((l) => session.engine.tree.resolve(String(l)).path);
          const before = c.wants;
          c.wants = layers;
          try {
            await retap();
          } catch (err) {
            c.wants = before;
            throw err;
          }
          result = layers;
        } else result = await session.command(msg);
        c.outbox.push({ type: 'reply', id: msg.id, ok: true, result });
      } catch (err) {
        c.outbox.push({ type: 'reply', id: msg.id, ok: false, error: (err as Error).message });
      }
    });
  }

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port, host, () => ok());
  });
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
