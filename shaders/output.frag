// The output picture, RGBA8 exactly as the engine made it, faded by the blackout amount
// (0 = picture, 1 = black). The host ramps `blackout` over /netbend/output/fade seconds.
precision mediump float;
uniform sampler2D picture;
uniform float blackout;
varying vec2 uv;
void main() {
  vec3 c = texture2D(picture, uv).rgb;
  // Fade in perceptual terms: squaring the gain makes the fade look even rather than sudden at the end.
  float gain = 1.0 - clamp(blackout, 0.0, 1.0);
  gl_FragColor = vec4(c * gain * gain, 1.0);
}
