// A full-canvas quad; `scale` letterboxes (fit) or crops (fill) the picture's aspect into the canvas.
precision mediump float;
attribute vec2 position;
uniform vec2 scale;
varying vec2 uv;
void main() {
  uv = vec2(position.x * 0.5 + 0.5, 0.5 - position.y * 0.5);
  gl_Position = vec4(position * scale, 0.0, 1.0);
}
