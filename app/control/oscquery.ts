// OSCQuery (Vidvox's proposal): the parameter namespace as JSON over HTTP, single attributes by
// query (`?VALUE`, `?HOST_INFO`), and a WebSocket where clients LISTEN to paths and receive value
// changes as binary OSC. TouchDesigner, Chataigne and VDMX discover netbend's parameters this way.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import oscModule from 'osc-js';
import type { ParameterRegistry, ParamSpec, ParamValue } from './registry.ts';

const OSC = ((oscModule as unknown as { default?: unknown }).default ?? oscModule) as unknown as typeof import('osc-js').default;

const ATTRIBUTES = ['VALUE', 'TYPE', 'RANGE', 'ACCESS', 'DESCRIPTION', 'UNIT', 'FULL_PATH', 'CONTENTS', 'HOST_INFO'] as const;

function typeTag(s: ParamSpec): string {
  switch (s.type) {
    case 'float':
      return 'f';
    case 'int':
      return 'i';
    case 'bool':
      return 'T';
    case 'trigger':
      return 'I';
    default:
      return 's';
  }
}

function node(params: ParameterRegistry, s: ParamSpec): Record<string, unknown> {
  const n: Record<string, unknown> = {
    FULL_PATH: s.address,
    TYPE: typeTag(s),
    ACCESS: s.readOnly ? 1 : 3,
    DESCRIPTION: s.description ?? s.address.split('/').pop(),
  };
  if (s.type !== 'trigger') n.VALUE = [params.target(s.address)];
  if (s.type === 'enum') n.RANGE = [{ VALS: s.options ?? [] }];
  else if (s.min !== undefined || s.max !== undefined) n.RANGE = [{ MIN: s.min, MAX: s.max }];
  if (s.unit) n.UNIT = [s.unit];
  return n;
}

/** The container at `path` with everything under it, or one parameter's node; undefined if none. */
export function namespace(params: ParameterRegistry, path: string): Record<string, unknown> | undefined {
  const clean = path === '/' ? '' : path.replace(/\/$/, '');
  const exact = params.spec(clean);
  if (exact) return node(params, exact);
  const root: Record<string, unknown> = { FULL_PATH: clean || '/', ACCESS: 0, CONTENTS: {} };
  let found = false;
  for (const s of params.list()) {
    if (!s.address.startsWith(clean + '/')) continue;
    found = true;
    const segs = s.address.slice(clean.length + 1).split('/');
    let cur = root;
    let full = clean;
    segs.forEach((seg, i) => {
      full += '/' + seg;
      const contents = (cur.CONTENTS ??= {}) as Record<string, Record<string, unknown>>;
      if (i === segs.length - 1) contents[seg] = node(params, s);
      else cur = contents[seg] ??= { FULL_PATH: full, ACCESS: 0, CONTENTS: {} };
    });
  }
  return found ? root : undefined;
}

export interface OscQueryOptions {
  name?: string;
  oscPort: () => number;
  host?: string;
}

/** An http handler: answers OSCQuery requests, returns false for anything else. */
export function oscQueryHandler(params: ParameterRegistry, o: OscQueryOptions) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'GET') return false;
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*' }).end(JSON.stringify(body));
      return true;
    };
    const query = url.search.slice(1).split('&')[0]!.toUpperCase();
    if (query === 'HOST_INFO') {
      return send(200, {
        NAME: o.name ?? 'netbend',
        OSC_IP: o.host ?? '127.0.0.1',
        OSC_PORT: o.oscPort(),
        OSC_TRANSPORT: 'UDP',
        EXTENSIONS: { ACCESS: true, VALUE: true, RANGE: true, DESCRIPTION: true, UNIT: true, TAGS: false, CLIPMODE: false, LISTEN: true, PATH_CHANGED: false, PATH_ADDED: true, PATH_REMOVED: true },
      });
    }
    if (url.pathname !== '/' && !url.pathname.startsWith('/netbend')) return false;
    const ns = namespace(params, decodeURIComponent(url.pathname));
    if (!ns) return send(404, { error: `no OSC path ${url.pathname}` });
    if (query) {
      if (!(ATTRIBUTES as readonly string[]).includes(query)) return send(400, { error: `unknown attribute ${query}` });
      if (!(query in ns)) return send(204, {});
      return send(200, { [query]: ns[query] });
    }
    return send(200, ns);
  };
}

/** WebSocket side: LISTEN / IGNORE commands, value changes as binary OSC, PATH_ADDED / PATH_REMOVED. */
export function oscQueryUpgrade(params: ParameterRegistry) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const listening = new Map<WebSocket, Set<string>>();
  params.on('change', (c) => {
    for (const [ws, paths] of listening) {
      if (!paths.has(c.address) || ws.readyState !== ws.OPEN) continue;
      const v: ParamValue = c.value;
      ws.send(new OSC.Message(c.address, typeof v === 'boolean' ? (v ? 1 : 0) : v).pack());
    }
  });
  const notice = (COMMAND: string, DATA: string) => {
    for (const ws of listening.keys()) if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ COMMAND, DATA }));
  };
  params.on('define', (s) => notice('PATH_ADDED', s.address));
  params.on('remove', (a) => notice('PATH_REMOVED', a));
  wss.on('connection', (ws) => {
    listening.set(ws, new Set());
    ws.on('close', () => listening.delete(ws));
    ws.on('message', (data, binary) => {
      if (binary) return;
      try {
        const msg = JSON.parse(String(data)) as { COMMAND?: string; DATA?: string };
        const paths = listening.get(ws)!;
        if (msg.COMMAND === 'LISTEN' && typeof msg.DATA === 'string') paths.add(msg.DATA);
        else if (msg.COMMAND === 'IGNORE' && typeof msg.DATA === 'string') paths.delete(msg.DATA);
      } catch {
        // Not JSON: ignored, as the proposal leaves other text undefined.
      }
    });
  });
  return (req: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    return true;
  };
}
