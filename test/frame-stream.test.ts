// The preview pictures a page gets when it asks for them small (PreviewAsk): how often a picture
// is halved for a side, and the 2x2 mean that halves it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { halve, previewHalvings } from '../app/server/frame-stream.ts';

test('a picture is halved while the halved one still covers the side asked, sides whole', () => {
  assert.equal(previewHalvings(1024, 1024, 0), 0, 'nothing asked: full frames');
  assert.equal(previewHalvings(1024, 1024, 448), 1, '512 covers 448, 256 would not');
  assert.equal(previewHalvings(1024, 1024, 512), 1, 'exactly covered');
  assert.equal(previewHalvings(1024, 1024, 100), 3, '128');
  assert.equal(previewHalvings(1024, 576, 300), 1, 'the longer side counts: 512x288');
  assert.equal(previewHalvings(1024, 1024, 2000), 0, 'a side past the picture: whole');
  assert.equal(previewHalvings(1000, 750, 100), 1, '500x375: an odd side stops it');
  assert.equal(previewHalvings(2, 2, 1), 1, 'down to 1x1 at most');
  for (const bad of [-5, Number.NaN]) assert.equal(previewHalvings(1024, 1024, bad), 0);
});

test('halving takes each 2x2 block to its mean, per channel, within half a level', () => {
  const [w, h] = [6, 4];
  const src = new Uint8Array(w * h * 4);
  for (let i = 0; i < src.length; i++) src[i] = (i * 37 + (i >> 3) * 101) & 255;
  src.set([255, 255, 255, 255, 255, 255, 255, 255], 0); // a white top-left pair...
  src.set([255, 255, 255, 255, 255, 255, 255, 255], w * 4); // ...over a white pair: stays white
  const out = new Uint32Array((w / 2) * (h / 2));
  halve(new Uint32Array(src.buffer), w, h, out);
  const o = new Uint8Array(out.buffer);
  for (let y = 0; y < h / 2; y++)
    for (let x = 0; x < w / 2; x++)
      for (let k = 0; k < 4; k++) {
        const at = (yy: number, xx: number) => src[(yy * w + xx) * 4 + k]!;
        const mean = (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1)) / 4;
        const got = o[(y * (w / 2) + x) * 4 + k]!;
        assert.ok(Math.abs(got - mean) <= 0.5, `pixel ${x},${y} channel ${k}: ${got} for a mean of ${mean}`);
      }
  assert.deepEqual([...o.subarray(0, 4)], [255, 255, 255, 255]);
});
