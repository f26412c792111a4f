// The output picture, RGBA8 as the engine made it, faded by the blackout amount.
precision mediump float;
uniform sampler2D picture;
uniform float blackout;
varying vec2 uv;
void main() {
  gl_FragColor = vec4(texture2D(picture, uv).rgb * (1.0 - blackout), 1.0);
}
