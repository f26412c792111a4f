// The folder-boundary checker (.ci/check-boundaries.ts) on small trees written for each rule.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { checkBoundaries } from '../.ci/check-boundaries.ts';
import { ROOT, tempDir } from './helpers.ts';

type Tree = Record<string, string>;

function write(root: string, tree: Tree): string {
  for (const [file, text] of Object.entries(tree)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  return root;
}

const messages = (root: string) => checkBoundaries(root).violations.map((v) => `[${v.rule}] ${v.message}`);
const cli = (root: string) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, '.ci', 'check-boundaries.ts'), root], { cwd: ROOT, encoding: 'utf8' });

/** A tree that keeps every rule: one-way app folders, the one onnxruntime importer, browser-only UI. */
const CLEAN: Tree = {
  'app/control/registry.ts': 'export class Registry {}\n',
  'app/engine/engine.ts': "import { Registry } from '../control/registry.ts';\nimport { readFile } from 'node:fs/promises';\nexport const r = new Registry();\n",
  'app/engine/bend/plan.ts': "import { r } from '../engine.ts';\nexport const p = r;\n",
  // A cycle inside one app folder is allowed: sub-folders of app/engine may lean on each other.
  'app/engine/loop.ts': "import { p } from './bend/plan.ts';\nexport const l = p;\n",
  'app/engine/inference/ort.ts': "import ort from 'onnxruntime-node';\nexport const o = ort;\n",
  'app/engine/inference/runner.ts': "const entry = new URL('./ort.ts', import.meta.url);\nexport { entry };\n",
  'app/server/http.ts': "import { createServer } from 'node:http';\nimport { WebSocketServer } from 'ws';\nimport { l } from '../engine/loop.ts';\n",
  'app/ui/view.tsx': "import { render } from 'preact';\n// a comment naming import('node:fs') and require('ws') is not an import\nexport const v = render;\n",
  // Nor is the text of a string (this test file's fixtures are such strings).
  'app/ui/text.ts': "export const help = \"import fs from 'node:fs'; require('ws')\";\nexport const t = `import('onnxruntime-web')`;\n",
  'bench/engine.ts': "import type { InferenceSession } from 'onnxruntime-common';\nimport { l } from '../app/engine/loop.ts';\nexport type S = InferenceSession;\n",
  'test/engine.test.ts': "import { l } from '../app/engine/loop.ts';\nimport assert from 'node:assert/strict';\n",
};

test('a tree that keeps the rules passes, and the CLI says ok with exit 0', (t) => {
  const root = write(tempDir(t), CLEAN);
  assert.deepEqual(messages(root), []);
  const run = cli(root);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^boundaries: ok \(11 files, \d+ imports\)/);
});

test('two app folders that import each other are a cycle, listed with the edges that make it', (t) => {
  const root = write(tempDir(t), { ...CLEAN, 'app/control/registry.ts': "import type { r } from '../engine/engine.ts';\nexport class Registry {}\n" });
  const found = messages(root);
  assert.equal(found.length, 1, found.join('\n'));
  assert.match(found[0] ?? '', /^\[cycle\] folders import each other: app\/control <-> app\/engine\n/);
  assert.match(found[0] ?? '', /app\/control -> app\/engine: app\/control\/registry\.ts:1 imports \(type\) '\.\.\/engine\/engine\.ts'/);
  assert.match(found[0] ?? '', /app\/engine -> app\/control: app\/engine\/engine\.ts:1 imports '\.\.\/control\/registry\.ts'/);
  const run = cli(root);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /boundaries: 1 violation\(s\) in 11 files:\n {2}\[cycle\] folders import each other: app\/control <-> app\/engine/);
});

test('a three-folder cycle is one finding naming all three', (t) => {
  const root = write(tempDir(t), {
    'app/a/x.ts': "import '../b/y.ts';\n",
    'app/b/y.ts': "export * from '../c/z.ts';\n",
    'app/c/z.ts': "const m = await import('../a/x.ts');\n",
  });
  assert.deepEqual(
    messages(root).map((m) => m.split('\n')[0]),
    ['[cycle] folders import each other: app/a <-> app/b <-> app/c'],
  );
});

test('the engine core imports no socket, MIDI or Electron module, in any form', (t) => {
  const root = write(tempDir(t), {
    'app/engine/net.ts': "import { WebSocket } from 'ws';\nimport dgram from 'node:dgram';\nexport { Socket } from 'net';\nimport type { Server } from 'node:http';\n",
    'app/control/midi.ts': "import { createRequire } from 'node:module';\ntype M = typeof import('easymidi');\nconst midi = createRequire(import.meta.url)('easymidi') as M;\n",
    'app/control/shell.cjs': "const { app } = require('electron');\n",
    'app/engine/ok.ts': "import { readFileSync } from 'node:fs';\nimport { Worker } from 'node:worker_threads';\n",
  });
  assert.deepEqual(messages(root), [
    "[engine-core] app/control/midi.ts:2 imports (type) 'easymidi': the engine core does no network, MIDI or Electron I/O",
    "[engine-core] app/control/midi.ts:3 imports (require) 'easymidi': the engine core does no network, MIDI or Electron I/O",
    "[engine-core] app/control/shell.cjs:1 imports (require) 'electron': the engine core does no network, MIDI or Electron I/O",
    "[engine-core] app/engine/net.ts:1 imports 'ws': the engine core does no network, MIDI or Electron I/O",
    "[engine-core] app/engine/net.ts:2 imports 'node:dgram': the engine core does no network, MIDI or Electron I/O",
    "[engine-core] app/engine/net.ts:3 imports 'net': the engine core does no network, MIDI or Electron I/O",
    "[engine-core] app/engine/net.ts:4 imports (type) 'node:http': the engine core does no network, MIDI or Electron I/O",
  ]);
});

test('the engine core imports nothing from app/server, app/ui, app/cli or app/electron, however the path is spelled', (t) => {
  const root = write(tempDir(t), {
    'app/server/protocol.ts': 'export const P = 1;\n',
    'app/ui/state.ts': 'export const S = 1;\n',
    'app/cli/main.ts': 'export const C = 1;\n',
    'app/electron/main.cjs': 'module.exports = {};\n',
    'app/engine/bend/deep.ts': "import { P } from '../../server/protocol.ts';\nimport { S } from '../../engine/../ui/state';\n",
    'app/control/a.ts': "import { C } from '../cli/main.ts';\nconst e = require('../electron/main.cjs');\n",
    // A folder merely named like an outer layer, inside the engine, is not one.
    'app/engine/ui/colors.ts': 'export const K = 1;\n',
    'app/engine/b.ts': "import { K } from './ui/colors.ts';\n",
  });
  assert.deepEqual(messages(root), [
    "[engine-core] app/control/a.ts:1 imports '../cli/main.ts' -> app/cli/main.ts: the engine core imports nothing from app/cli",
    "[engine-core] app/control/a.ts:2 imports (require) '../electron/main.cjs' -> app/electron/main.cjs: the engine core imports nothing from app/electron",
    "[engine-core] app/engine/bend/deep.ts:1 imports '../../server/protocol.ts' -> app/server/protocol.ts: the engine core imports nothing from app/server",
    "[engine-core] app/engine/bend/deep.ts:2 imports '../../engine/../ui/state' -> app/ui/state.ts: the engine core imports nothing from app/ui",
  ]);
});

test('the UI imports no onnxruntime and no Node builtin, node: prefixed or bare', (t) => {
  const root = write(tempDir(t), {
    'app/ui/a.tsx': "import { readFile } from 'node:fs/promises';\nimport path from 'path';\nimport ort from 'onnxruntime-web';\nimport { signal } from '@preact/signals';\n",
    'app/ui/b.ts': "import type { Timeout } from 'timers';\nconst fs = await import('fs');\n",
  });
  assert.deepEqual(messages(root), [
    "[ui] app/ui/a.tsx:1 imports 'node:fs/promises': the UI runs in a browser, no Node builtins",
    "[ui] app/ui/a.tsx:2 imports 'path': the UI runs in a browser, no Node builtins",
    "[ui] app/ui/a.tsx:3 imports 'onnxruntime-web': the UI runs no model",
    "[ui] app/ui/b.ts:1 imports (type) 'timers': the UI runs in a browser, no Node builtins",
    "[ui] app/ui/b.ts:2 imports (dynamic) 'fs': the UI runs in a browser, no Node builtins",
    "[onnxruntime] app/ui/a.tsx:3 imports 'onnxruntime-web': only app/engine/inference/ort.ts imports onnxruntime (benches included); go through it",
  ]);
});

test('only ort.ts loads onnxruntime, benches included; type-only imports load nothing and pass', (t) => {
  const root = write(tempDir(t), {
    'app/engine/inference/ort.ts': "import ort from 'onnxruntime-node';\n",
    'app/engine/inference/protocol.ts': "import type { Tensor } from 'onnxruntime-common';\nexport type T = import('onnxruntime-node').Tensor;\n",
    'app/engine/engine.ts': "const ort = await import('onnxruntime-node');\n",
    'bench/bare.ts': "import * as ort from 'onnxruntime-node';\n",
    'bench/web.ts': "export { InferenceSession } from 'onnxruntime-web/webgpu';\n",
  });
  assert.deepEqual(messages(root), [
    "[onnxruntime] app/engine/engine.ts:1 imports (dynamic) 'onnxruntime-node': only app/engine/inference/ort.ts imports onnxruntime (benches included); go through it",
    "[onnxruntime] bench/bare.ts:1 imports 'onnxruntime-node': only app/engine/inference/ort.ts imports onnxruntime (benches included); go through it",
    "[onnxruntime] bench/web.ts:1 imports 'onnxruntime-web/webgpu': only app/engine/inference/ort.ts imports onnxruntime (benches included); go through it",
  ]);
});

test('a relative import that resolves to nothing is reported; build outputs are not scanned', (t) => {
  const root = write(tempDir(t), {
    'app/engine/a.ts': "import { gone } from './gone.ts';\n",
    'app/ui/dist/app.js': "import fs from 'node:fs';\n",
    'models/make.ts': "import { x } from '../app/engine/a.ts';\n",
  });
  assert.deepEqual(messages(root), ["[unresolved] app/engine/a.ts:1 imports './gone.ts': no such file"]);
});
