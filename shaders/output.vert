// A full-canvas quad for every 2D view (output and layer taps). `scale` letterboxes (fit: the
// picture inside the canvas, black around) or crops (fill: the canvas inside the picture) the
// picture's aspect; both are computed on the host from the canvas and picture sizes. The output
// view draws the whole canvas (scale 1) and places the picture in output.frag.
precision highp float;
attribute vec2 position;
uniform vec2 scale;
varying vec2 uv;
void main() {
  // Texture rows arrive top row first: flip v so the picture is upright.
  uv = vec2(position.x * 0.5 + 0.5, 0.5 - position.y * 0.5);
  gl_Position = vec4(position * scale, 0.0, 1.0);
}
