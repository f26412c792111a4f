// The edge of /ws: every text message a page sends is checked here before anything in the show
// sees it (its one kind of binary message, a block of audio, is checked in app/core/pcm-frame.ts). A schema per command (matching `Command` in protocol.ts, checked at compile time below),
// so a bad message is answered with a sentence naming the field, and never reaches the session.
import { z } from 'zod';
import { LEARN_MOVES, MAX_PREVIEW_SIDE, type Command, type FrameAck, type PreviewAsk } from '../core/protocol.ts';

const paramValue = z.union([z.number(), z.boolean(), z.string()]);

// Strict objects: a misspelt field (`morphSecond`) is named in the reply instead of being dropped
// without a word, which would look like the command working but doing less.
const commands = [
  z.strictObject({ cmd: z.literal('set'), address: z.string(), value: paramValue }),
  z.strictObject({ cmd: z.literal('addEdit'), target: z.string(), op: z.enum(['scale', 'offset', 'set', 'noise', 'ablate']), amount: z.number(), name: z.string().optional() }),
  z.strictObject({ cmd: z.literal('removeEdit'), edit: z.string() }),
  z.strictObject({ cmd: z.literal('addBend'), layer: z.string().max(1024), op: z.string().max(64), name: z.string().max(64).optional(), values: z.record(z.string().max(64), paramValue).optional() }),
  z.strictObject({ cmd: z.literal('removeBend'), bend: z.string().max(64) }),
  z.strictObject({ cmd: z.literal('moveBend'), bend: z.string().max(64), index: z.number().int() }),
  z.strictObject({ cmd: z.literal('clearBends') }),
  z.strictObject({ cmd: z.literal('restore') }),
  z.strictObject({ cmd: z.literal('loadPartner'), path: z.string().nullable() }),
  z.strictObject({ cmd: z.literal('setTaps'), layers: z.array(z.string()) }),
  z.strictObject({ cmd: z.literal('savePreset'), name: z.string() }),
  z.strictObject({ cmd: z.literal('loadPreset'), name: z.string(), morphSeconds: z.number().optional(), at: z.enum(['start', 'end']).optional(), confirm: z.boolean().optional() }),
  z.strictObject({ cmd: z.literal('loadModel'), file: z.string(), confirm: z.boolean().optional() }),
  z.strictObject({ cmd: z.literal('undo') }),
  z.strictObject({ cmd: z.literal('redo') }),
  z.strictObject({ cmd: z.literal('addModulator'), target: z.string(), kind: z.enum(['lfo', 'expr']), source: z.string().min(1).max(1024) }),
  z.strictObject({ cmd: z.literal('setModulator'), mod: z.string(), source: z.string().min(1).max(1024) }),
  z.strictObject({ cmd: z.literal('muteModulator'), mod: z.string(), muted: z.boolean() }),
  z.strictObject({ cmd: z.literal('removeModulator'), mod: z.string() }),
  z.strictObject({ cmd: z.literal('sketch'), input: z.string(), png: z.string().max(64 * 1024) }),
  z.strictObject({ cmd: z.literal('seedGrid'), n: z.number().int().min(1).max(8), mode: z.enum(['seeds', 'around']), seed: z.number().int().optional(), spread: z.number().min(0).max(10).optional() }),
  z.strictObject({ cmd: z.literal('seedPick'), index: z.number().int().min(0), action: z.enum(['jump', 'glide', 'keep']), glide: z.number().min(0).max(600).optional() }),
  z.strictObject({
    cmd: z.literal('directions'),
    action: z.enum(['compute', 'save', 'load', 'list']),
    name: z
      .string()
      .regex(/^[\w][\w.-]{0,63}$/, 'letters, digits, _ . - (at most 64, not starting with . or -)')
      .optional(),
  }),
  z.strictObject({ cmd: z.literal('midiLearn'), address: z.string().nullable() }),
  z.strictObject({
    cmd: z.literal('midiEdit'),
    mapping: z.string(),
    range: z.tuple([z.number(), z.number()]).optional(),
    curve: z.enum(['lin', 'exp', 'log']).optional(),
    invert: z.boolean().optional(),
    takeover: z.enum(['jump', 'pickup']).optional(),
  }),
  z.strictObject({ cmd: z.literal('midiRemove'), mapping: z.string() }),
  z.strictObject({ cmd: z.literal('learn'), move: z.enum(LEARN_MOVES), args: z.array(z.union([z.string().max(16 * 1024), z.number()])).max(4) }),
  z.strictObject({ cmd: z.literal('record'), on: z.boolean() }),
  z.strictObject({ cmd: z.literal('transport'), playing: z.boolean() }),
  z.strictObject({ cmd: z.literal('audioCapture'), on: z.boolean(), takeover: z.boolean().optional() }),
  z.strictObject({ cmd: z.literal('track'), load: z.string().min(1).max(1024).optional(), position: z.number().finite().min(0).max(1e6).optional(), unload: z.boolean().optional() }),
] as const;
export const commandSchema = z.discriminatedUnion('cmd', commands);
const COMMAND_NAMES = commands.map((c) => c.shape.cmd.value);

const ackSchema = z.strictObject({ ack: z.number().int().nonnegative() });
const previewSchema = z.strictObject({ preview: z.number().int().min(0).max(MAX_PREVIEW_SIDE) });

// The schema and the protocol type must say the same thing: a command added to one and not the
// other fails the type check here, instead of being refused (or let through) at run time.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agree: Same<z.infer<typeof commandSchema>, Command> & Same<z.infer<typeof ackSchema>, FrameAck> & Same<z.infer<typeof previewSchema>, PreviewAsk> = true;
void agree;

/** What a page's message turned out to be. */
export type Incoming =
  | { kind: 'ack'; ack: FrameAck }
  | { kind: 'preview'; preview: PreviewAsk }
  | { kind: 'command'; id: number; command: Command }
  /** A command-shaped message (it has an id) that is wrong: answer it with a reply. */
  | { kind: 'bad-command'; id: number; error: string }
  /** Not a command at all: worth one notice to the page, no reply (there is no id to reply to). */
  | { kind: 'junk'; why: string };

const article = (t: string) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);

/** One zod issue as a short sentence: `address: expected a string`. */
function describe(issue: z.core.$ZodIssue, msg: Record<string, unknown>): string {
  const at = issue.path.length ? `${issue.path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${String(k)}`)).join('')}: ` : '';
  switch (issue.code) {
    case 'invalid_type':
      return `${at}expected ${issue.expected === 'nonoptional' ? 'a value' : article(issue.expected)}`;
    case 'invalid_value':
      return `${at}expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `${at}unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
    case 'invalid_union':
      // The discriminator matched nothing: the command name itself is wrong or missing.
      if (issue.path.join('.') === 'cmd' || issue.errors.length === 0) return `cmd: ${'cmd' in msg ? `unknown command ${JSON.stringify(msg.cmd)}` : 'missing'} (one of ${COMMAND_NAMES.join(', ')})`;
      {
        // A value that may be one of several types (a parameter value): name them all.
        const types = issue.errors.flatMap((branch) => branch.filter((i) => i.code === 'invalid_type').map((i) => (i as { expected: string }).expected));
        if (types.length === issue.errors.length && types.length) return `${at}expected ${article(types.length > 1 ? `${types.slice(0, -1).join(', ')} or ${types.at(-1)}` : types[0]!)}`;
      }
      return `${at}${issue.message}`;
    default:
      return `${at}${issue.message}`;
  }
}

/** Sorts a text message from a page into an ack, a valid command, or something to refuse. */
export function parseIncoming(text: string): Incoming {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { kind: 'junk', why: 'not JSON' };
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg))
    return { kind: 'junk', why: `expected a JSON object, got ${Array.isArray(msg) ? 'an array' : msg === null ? 'null' : article(typeof msg)}` };
  const obj = msg as Record<string, unknown>;
  if ('ack' in obj) {
    const a = ackSchema.safeParse(obj);
    return a.success ? { kind: 'ack', ack: a.data } : { kind: 'junk', why: `bad frame ack: ${describe(a.error.issues[0]!, obj)}` };
  }
  if ('preview' in obj) {
    const p = previewSchema.safeParse(obj);
    return p.success ? { kind: 'preview', preview: p.data } : { kind: 'junk', why: `bad preview size: ${describe(p.error.issues[0]!, obj)}` };
  }
  const { id, ...rest } = obj;
  // Without a usable id there is nothing to address a reply to.
  if (typeof id !== 'number' || !Number.isInteger(id)) return { kind: 'junk', why: `bad command: id: expected a whole number${'cmd' in obj ? ` (cmd ${JSON.stringify(obj.cmd)})` : ''}` };
  const c = commandSchema.safeParse(rest);
  if (!c.success) return { kind: 'bad-command', id, error: `bad command: ${c.error.issues.map((i) => describe(i, rest)).join('; ')}` };
  return { kind: 'command', id, command: c.data };
}
