// OSC 1.0 address patterns (`*`, `?`, `[a-z]`, `[!a]`, `{foo,bar}`), matched without regular
// expressions. A pattern arrives from the network, so its cost must not depend on how cleverly it
// is built: a backtracking regex of 30 `*` stalled the show for half a minute. Here a pattern is
// parsed once into tokens per part (the spec matches part by part: same count of `/`-separated
// parts, each part against its own), and a part is matched by a dynamic programme over (token,
// position): cost at most part length x token count, whatever the pattern. Against the whole
// registry a pattern walks a tree of address parts, so `netbend` is matched once, not 300 times.

/** Longest address or pattern taken (bytes on the wire, code units here): longer ones are dropped. */
export const MAX_ADDRESS = 1024;
/** Tokens (wildcards, classes, braces, literal runs) in one pattern; a real show needs a handful. */
export const MAX_TOKENS = 128;
/** Brace alternatives in one pattern, all braces together. */
export const MAX_ALTERNATIVES = 64;

type Token =
  /** A run of `*` and `?`: exactly `skip` code units, or (with a star) at least that many. */
  | { kind: 'any'; skip: number; star: boolean }
  /** A literal run, or a brace: any of these strings (one string for a literal run). */
  | { kind: 'text'; alts: string[] }
  /** `[...]`: inclusive code-unit ranges; `[!...]` negates. */
  | { kind: 'class'; ranges: number[]; negate: boolean };

interface Part {
  tokens: Token[];
  /** Fewest / most code units the part can match (max Infinity with a `*`): cheap early rejection. */
  min: number;
  max: number;
}

export interface CompiledPattern {
  readonly source: string;
  readonly parts: readonly Part[];
}

export class PatternError extends Error {}

/** Parses a pattern; throws PatternError when malformed (unclosed `[` or `{`) or over the limits. */
export function compilePattern(pattern: string): CompiledPattern {
  if (pattern.length > MAX_ADDRESS) throw new PatternError(`OSC pattern longer than ${MAX_ADDRESS}`);
  if (!pattern.startsWith('/')) throw new PatternError(`OSC pattern ${short(pattern)}: must start with /`);
  const budget = { tokens: 0, alternatives: 0 };
  // A `/` inside `[...]` or `{...}` splits the part and leaves it unclosed: malformed, since no
  // part of an address can contain one.
  const parts = pattern
    .slice(1)
    .split('/')
    .map((p) => part(p, pattern, budget));
  return { source: pattern, parts };
}

function part(p: string, pattern: string, budget: { tokens: number; alternatives: number }): Part {
  const tokens: Token[] = [];
  let literal = '';
  const push = (t: Token) => {
    if (literal) tokens.push({ kind: 'text', alts: [literal] });
    literal = '';
    // `*?*?**` matches what `??*` does: a storm of wildcards collapses to one token.
    const last = tokens.at(-1);
    if (t.kind === 'any' && last?.kind === 'any') {
      last.skip += t.skip;
      last.star ||= t.star;
    } else tokens.push(t);
  };
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') push({ kind: 'any', skip: 0, star: true });
    else if (c === '?') push({ kind: 'any', skip: 1, star: false });
    else if (c === '[') {
      const end = p.indexOf(']', i);
      if (end < 0) throw new PatternError(`OSC pattern ${short(pattern)}: unclosed [`);
      push(charClass(p.slice(i + 1, end), pattern));
      i = end;
    } else if (c === '{') {
      const end = p.indexOf('}', i);
      if (end < 0) throw new PatternError(`OSC pattern ${short(pattern)}: unclosed {`);
      const alts = p.slice(i + 1, end).split(',');
      budget.alternatives += alts.length;
      if (budget.alternatives > MAX_ALTERNATIVES) throw new PatternError(`OSC pattern ${short(pattern)}: more than ${MAX_ALTERNATIVES} alternatives`);
      push({ kind: 'text', alts: [...new Set(alts)] });
      i = end;
    } else literal += c;
  }
  if (literal) tokens.push({ kind: 'text', alts: [literal] });
  budget.tokens += tokens.length;
  if (budget.tokens > MAX_TOKENS) throw new PatternError(`OSC pattern ${short(pattern)}: more than ${MAX_TOKENS} tokens`);
  let min = 0;
  let max = 0;
  for (const t of tokens) {
    if (t.kind === 'any') {
      min += t.skip;
      max = t.star ? Infinity : max + t.skip;
    } else if (t.kind === 'text') {
      const lengths = t.alts.map((a) => a.length);
      min += Math.min(...lengths);
      max += Math.max(...lengths);
    } else min++, max++;
  }
  return { tokens, min, max };
}

/** `a-z` is a range, a `-` first or last is itself; a reversed range (`z-a`) is malformed. */
function charClass(body: string, pattern: string): Token {
  const negate = body.startsWith('!');
  if (negate) body = body.slice(1);
  const ranges: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const lo = body.charCodeAt(i);
    if (body[i + 1] === '-' && i + 2 < body.length) {
      const hi = body.charCodeAt(i + 2);
      if (hi < lo) throw new PatternError(`OSC pattern ${short(pattern)}: reversed range in [${body}]`);
      ranges.push(lo, hi);
      i += 2;
    } else ranges.push(lo, lo);
  }
  return { kind: 'class', ranges, negate };
}

const short = (s: string) => (s.length > 60 ? `${s.slice(0, 60)}...` : s);

// Two rows of the programme, reused: matching allocates nothing per call once they are big enough.
let rowA = new Uint8Array(64);
let rowB = new Uint8Array(64);

/** Does one part of a pattern match one part of an address (which contains no `/`)? */
function matchPart(p: Part, s: string): boolean {
  const n = s.length;
  if (n < p.min || n > p.max) return false;
  if (rowA.length <= n) [rowA, rowB] = [new Uint8Array(2 * (n + 1)), new Uint8Array(2 * (n + 1))];
  // cur[j]: the tokens so far can consume exactly the first j code units.
  let cur = rowA;
  let next = rowB;
  cur.fill(0, 0, n + 1);
  cur[0] = 1;
  for (const t of p.tokens) {
    next.fill(0, 0, n + 1);
    let any = 0;
    if (t.kind === 'any') {
      const k = t.skip;
      if (t.star) {
        let seen = 0;
        for (let j = k; j <= n; j++) any |= next[j] = seen |= cur[j - k]!;
      } else for (let j = k; j <= n; j++) if (cur[j - k]) any = next[j] = 1;
    } else if (t.kind === 'class') {
      for (let j = 0; j < n; j++) if (cur[j] && inClass(t, s.charCodeAt(j))) any = next[j + 1] = 1;
    } else {
      for (let j = 0; j <= n; j++) {
        if (!cur[j]) continue;
        for (const a of t.alts) if (j + a.length <= n && s.startsWith(a, j)) any = next[j + a.length] = 1;
      }
    }
    if (!any) return false;
    [cur, next] = [next, cur];
  }
  return cur[n] === 1;
}

function inClass(t: { ranges: number[]; negate: boolean }, c: number): boolean {
  let hit = false;
  for (let i = 0; i < t.ranges.length && !hit; i += 2) hit = c >= t.ranges[i]! && c <= t.ranges[i + 1]!;
  return hit !== t.negate;
}

/** Does the pattern match this (plain) address? */
export function matches(p: CompiledPattern, address: string): boolean {
  if (!address.startsWith('/')) return false;
  const segs = address.slice(1).split('/');
  return segs.length === p.parts.length && segs.every((s, i) => matchPart(p.parts[i]!, s));
}

interface Node {
  children: Map<string, Node>;
  /** Set where a whole address ends here. */
  address?: string;
}

/**
 * Addresses as a tree of their parts. Registry addresses share most parts (`netbend`, `source`,
 * `z`), so a pattern is matched against each distinct part once, level by level, and only below
 * parts that matched: the cost is bounded by the tree's size, not the registry's times its depth.
 */
export class AddressTree {
  private readonly root: Node = { children: new Map() };

  constructor(addresses: Iterable<string>) {
    for (const a of addresses) {
      if (!a.startsWith('/')) continue;
      let n = this.root;
      for (const s of a.slice(1).split('/')) {
        let c = n.children.get(s);
        if (!c) n.children.set(s, (c = { children: new Map() }));
        n = c;
      }
      n.address = a;
    }
  }

  /** Every address the pattern matches. */
  match(p: CompiledPattern): string[] {
    let frontier = [this.root];
    for (const part of p.parts) {
      const next: Node[] = [];
      // A plain part (`netbend`) is a lookup, not a scan.
      const t = part.tokens[0];
      const literal = part.tokens.length === 1 && t?.kind === 'text' && t.alts.length === 1 ? t.alts[0]! : part.tokens.length === 0 ? '' : undefined;
      for (const n of frontier) {
        if (literal !== undefined) {
          const c = n.children.get(literal);
          if (c) next.push(c);
        } else for (const [s, c] of n.children) if (matchPart(part, s)) next.push(c);
      }
      if (next.length === 0) return [];
      frontier = next;
    }
    return frontier.flatMap((n) => (n.address === undefined ? [] : [n.address]));
  }
}

export const isPattern = (address: string) => /[*?[{]/.test(address);

/**
 * Compiled patterns by source, bounded (senders can invent patterns forever). Malformed ones are
 * remembered as null so a repeated bad pattern costs a lookup.
 */
export class PatternCache {
  private readonly map = new Map<string, CompiledPattern | null>();
  constructor(private readonly size = 256) {}

  get(pattern: string): CompiledPattern | null {
    let p = this.map.get(pattern);
    if (p !== undefined) return p;
    try {
      p = compilePattern(pattern);
    } catch (err) {
      if (!(err instanceof PatternError)) throw err;
      p = null;
    }
    // Oldest out first: a Map iterates in insertion order.
    if (this.map.size >= this.size) this.map.delete(this.map.keys().next().value!);
    this.map.set(pattern, p);
    return p;
  }
}
