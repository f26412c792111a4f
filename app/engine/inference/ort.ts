// The one module that imports onnxruntime (transformers.js keeps such a single seam too). The
// inference worker runs sessions through it, and the benches' bare-onnxruntime baselines load
// the very same binding from here, so there is one runtime to measure and to upgrade.
import ort from 'onnxruntime-node';

export default ort;
export type { InferenceSession, Tensor } from 'onnxruntime-node';
