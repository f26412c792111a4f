// The machinery of scene moves: actions check their OSC signatures and run one at a time through
// the show's queue; argument-free actions are triggers too; history groups a drag into one step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParameterRegistry } from '../app/core/registry.ts';
import { ActionError, ActionRegistry, signature } from '../app/scene/actions.ts';
import { QueueFull, SerialQueue } from '../app/scene/serial-queue.ts';
import { SceneHistory } from '../app/scene/history.ts';

test('actions check their arguments against the signature and say how to call them', async () => {
  const params = new ParameterRegistry();
  const actions = new ActionRegistry(params);
  const calls: unknown[][] = [];
  actions.define({
    address: '/netbend/edit/add',
    args: [
      { name: 'name', type: 's' },
      { name: 'target', type: 's' },
      { name: 'op', type: 's' },
      { name: 'amount', type: 'f', optional: true },
    ],
    description: 'add an edit',
    run: (a) => calls.push(a),
  });
  assert.equal(signature(actions.spec('/netbend/edit/add')!.args), 'sss[f]');
  await actions.invoke('/netbend/edit/add', ['grain', 'b16', 'noise', 0.3], 'osc');
  await actions.invoke('/netbend/edit/add', ['grain2', 'b16', 'noise'], 'osc');
  assert.deepEqual(calls, [
    ['grain', 'b16', 'noise', 0.3],
    ['grain2', 'b16', 'noise'],
  ]);
  await assert.rejects(
    actions.invoke('/netbend/edit/add', ['x'], 'osc'),
    (e: Error) => e instanceof ActionError && /\/netbend\/edit\/add ,sss\[f\] \(name target op \[amount\]\): got 1 argument/.test(e.message),
  );
  await assert.rejects(actions.invoke('/netbend/edit/add', ['a', 'b', 'c', NaN], 'osc'), /amount must be a finite number/);
  await assert.rejects(actions.invoke('/netbend/edit/add', ['a', 'b', 3], 'osc'), /op must be a string/);
  await assert.rejects(actions.invoke('/netbend/edit/add', ['a'.repeat(2000), 'b', 'c'], 'osc'), /name must be a string of 1-1024/);
  await assert.rejects(actions.invoke('/netbend/nothing', [], 'osc'), /no action \/netbend\/nothing/);
  assert.equal(calls.length, 2, 'refused calls ran nothing');
});

test('an action without arguments is a trigger too: pressing it (MIDI, the page) runs it once', async () => {
  const params = new ParameterRegistry();
  const actions = new ActionRegistry(params);
  let runs = 0;
  actions.define({ address: '/netbend/undo', args: [], description: 'undo', run: () => runs++ });
  assert.equal(params.spec('/netbend/undo')?.type, 'trigger');
  params.set('/netbend/undo', true, 'midi');
  await actions.queue.idle();
  assert.equal(runs, 1);
  actions.remove('/netbend/undo');
  assert.equal(params.has('/netbend/undo'), false);
});

test('queued moves run one at a time in the order asked; a flood is refused, not queued forever', async () => {
  const q = new SerialQueue(3);
  const order: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const a = q.run(async () => {
    order.push('a start');
    await gate;
    order.push('a end');
  });
  const b = q.run(() => order.push('b'));
  const c = q.run(() => {
    throw new Error('c fails');
  });
  await assert.rejects(
    q.run(() => 0),
    QueueFull,
  );
  release();
  await a;
  await b;
  await assert.rejects(c, /c fails/);
  assert.deepEqual(order, ['a start', 'a end', 'b']);
  assert.equal(await q.run(() => 'after a failure, still running'), 'after a failure, still running');
});

test('history: a drag is one step, structural moves are steps, undo and redo walk them exactly', async () => {
  let scene = { v: 0, edits: [] as string[] };
  let now = 0;
  const h = new SceneHistory({ capture: () => structuredClone(scene), restore: async (s) => void (scene = structuredClone(s)), groupMs: 500, now: () => now });
  const drag = (v: number) => {
    h.record({ ...structuredClone(scene) }, 'ui:/v');
    scene.v = v;
    now += 16;
  };
  for (const v of [0.1, 0.2, 0.3, 0.4]) drag(v);
  now += 1000;
  h.record(structuredClone(scene));
  scene.edits.push('grain');
  h.record(structuredClone(scene), 'osc:/v');
  scene.v = 0.9;
  assert.deepEqual(h.depth, { undo: 3, redo: 0 });
  assert.equal(await h.undo(), true);
  assert.deepEqual(scene, { v: 0.4, edits: ['grain'] });
  assert.equal(await h.undo(), true);
  assert.deepEqual(scene, { v: 0.4, edits: [] });
  assert.equal(await h.undo(), true);
  assert.deepEqual(scene, { v: 0, edits: [] }, 'the whole drag undone in one step');
  assert.equal(await h.undo(), false);
  assert.equal(await h.redo(), true);
  assert.equal(await h.redo(), true);
  assert.deepEqual(scene, { v: 0.4, edits: ['grain'] });
  h.record(structuredClone(scene), 'ui:/v');
  scene.v = 0.5;
  assert.equal(h.canRedo, false, 'a new move drops the redo branch');
});
