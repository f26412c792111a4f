// A layer tap: one float value per texel (a channel grid atlas or a single channel) through a
// colormap, or three values (the first principal components) as RGB. Values are normalised with
// lo/hi from the host so the picture does not flicker with the tensor's range.
precision mediump float;
uniform sampler2D values;
uniform vec3 lo;
uniform vec3 hi;
uniform int colormap; // 0 grey, 1 viridis, 2 magma, 3 rgb
varying vec2 uv;

// Polynomial fits of matplotlib's viridis and magma (Matt Zucker's, public domain).
vec3 viridis(float t) {
  const vec3 c0 = vec3(0.2777, 0.0054, 0.3341);
  const vec3 c1 = vec3(0.1051, 1.4046, 1.3846);
  const vec3 c2 = vec3(-0.3309, 0.2148, 0.0951);
  const vec3 c3 = vec3(-4.6342, -5.7991, -19.3324);
  const vec3 c4 = vec3(6.2283, 14.1799, 56.6906);
  const vec3 c5 = vec3(4.7764, -13.7451, -65.3530);
  const vec3 c6 = vec3(-5.4355, 4.6459, 26.3124);
  return c0 + t * (c1 + t * (c2 + t * (c3 + t * (c4 + t * (c5 + t * c6)))));
}
vec3 magma(float t) {
  const vec3 c0 = vec3(-0.0021, -0.0007, -0.0054);
  const vec3 c1 = vec3(0.2516, 0.6775, 2.4940);
  const vec3 c2 = vec3(8.3537, -3.5772, 0.3144);
  const vec3 c3 = vec3(-27.6687, 14.2647, -13.6492);
  const vec3 c4 = vec3(52.1761, -27.9436, 12.9442);
  const vec3 c5 = vec3(-50.7685, 29.0466, 4.2341);
  const vec3 c6 = vec3(18.6557, -11.4898, -5.6019);
  return c0 + t * (c1 + t * (c2 + t * (c3 + t * (c4 + t * (c5 + t * c6)))));
}

void main() {
  vec3 v = texture2D(values, uv).rgb;
  vec3 n = clamp((v - lo) / max(hi - lo, vec3(1e-6)), 0.0, 1.0);
  vec3 c = colormap == 1 ? viridis(n.r) : colormap == 2 ? magma(n.r) : colormap == 3 ? n : vec3(n.r);
  gl_FragColor = vec4(clamp(c, 0.0, 1.0), 1.0);
}
