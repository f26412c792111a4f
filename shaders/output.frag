// The output picture, RGBA8 exactly as the engine made it, placed and faded in one pass over the
// whole canvas (drawn as one full-canvas quad). `frame` is the output window's half-size in the
// canvas (1, 1 when the canvas is the window; smaller in a preview framed as an output window,
// `outside` around it); `extent` is the picture's half-size: inside the frame, the picture where
// it reaches, black bars where it does not (fit). The host ramps `blackout` (0 = picture,
// 1 = black) over /netbend/output/fade seconds.
#ifdef GL_FRAGMENT_PRECISION_HIGH
precision highp float;
#else
precision mediump float;
#endif
uniform sampler2D picture;
uniform float blackout;
uniform vec2 frame;
uniform vec2 extent;
uniform vec3 outside;
varying vec2 uv;
void main() {
  vec2 pos = vec2(uv.x * 2.0 - 1.0, 1.0 - uv.y * 2.0);
  if (any(greaterThan(abs(pos), frame))) {
    gl_FragColor = vec4(outside, 1.0);
    return;
  }
  vec2 p = pos / extent;
  if (any(greaterThan(abs(p), vec2(1.0)))) {
    gl_FragColor = vec4(0.0, 0.0, 0.0, 1.0);
    return;
  }
  vec3 c = texture2D(picture, vec2(p.x * 0.5 + 0.5, 0.5 - p.y * 0.5)).rgb;
  // Fade in perceptual terms: squaring the gain makes the fade look even rather than sudden at the end.
  float gain = 1.0 - clamp(blackout, 0.0, 1.0);
  gl_FragColor = vec4(c * gain * gain, 1.0);
}
