// Shaders are imported as text (esbuild's text loader; see build.ts).
declare module '*.vert' {
  const source: string;
  export default source;
}
declare module '*.frag' {
  const source: string;
  export default source;
}
declare module '*.glsl' {
  const source: string;
  export default source;
}
