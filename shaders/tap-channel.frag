// One channel of a layer tap through a colormap. The same atlas as the grid view is bound; the
// chosen channel's cell is picked here (`cell`: its origin and size in atlas uv), so stepping
// through channels needs no upload. Normalised to that channel's own range.
precision highp float;
uniform sampler2D atlas;
uniform vec4 cell;       // xy: origin, zw: size, in atlas uv
uniform float lo;
uniform float hi;
uniform int map;
varying vec2 uv;

void main() {
  float v = texture2D(atlas, cell.xy + uv * cell.zw).r;
  float t = (v - lo) / max(hi - lo, 1e-6);
  gl_FragColor = vec4(colormap(map, t), 1.0);
}
