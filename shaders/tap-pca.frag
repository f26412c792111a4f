// A layer tap as its first three principal components mapped to R, G, B. The basis is found and
// the projection done on the host (app/ui/tap-math.ts: power iteration on the CxC covariance of a
// pixel subsample, projection of every pixel onto it): the texture holds the three projections
// per pixel. Here each component is centred on mid-grey and scaled by its own spread
// (`spread` = k standard deviations), so the picture keeps its contrast as the layer changes.
precision highp float;
uniform sampler2D components;
uniform vec3 spread;
varying vec2 uv;

void main() {
  vec3 p = texture2D(components, uv).rgb;
  vec3 c = clamp(0.5 + 0.5 * p / max(spread, vec3(1e-6)), 0.0, 1.0);
  gl_FragColor = vec4(c, 1.0);
}
