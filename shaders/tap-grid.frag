// A layer tap as a grid of its channels. `atlas` holds the tensor [C,H,W] laid out as a
// cols x rows atlas of HxW cells with no gaps (a float texture, one value per texel; the host
// only copies rows into place). The grid lines and the empty cells after the last channel are
// drawn here, in screen space, so they stay one pixel wide at any zoom. One normalisation for the
// whole tensor (lo..hi, robust percentiles eased over frames), so channels compare.
precision highp float;
uniform sampler2D atlas;
uniform vec2 grid;       // cols, rows
uniform float channels;  // C: cells at or after C are empty
uniform vec2 cellPx;     // size of one cell on screen, in canvas pixels
uniform float lo;
uniform float hi;
uniform int map;
varying vec2 uv;

void main() {
  vec2 g = uv * grid;
  vec2 cell = floor(g);
  vec2 inCell = (g - cell) * cellPx;
  float index = cell.y * grid.x + cell.x;
  // A dark 1px gutter on the left/top edge of every cell once cells are big enough to see it.
  bool gutter = cellPx.x > 6.0 && (inCell.x < 1.0 || inCell.y < 1.0);
  if (index >= channels || gutter) {
    gl_FragColor = vec4(vec3(0.035), 1.0);
    return;
  }
  float v = texture2D(atlas, uv).r;
  float t = (v - lo) / max(hi - lo, 1e-6);
  gl_FragColor = vec4(colormap(map, t), 1.0);
}
