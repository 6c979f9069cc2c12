/**
 * The layers the whole-step compiler knows (step-plan.ts): each emits its forward instructions and pushes its
 * backward ones (run in reverse layer order), over the arena laid out by step-compiler.ts.
 */
import { tf } from '../tf.js';
import { batchNormInternals, inboundLayers, outboundLayers } from '../tfjs-internals.js';
import { convParams, poolParams } from './kernels/params.js';
import { PLAN_OP, kernelOf, bitsOf, l2Of, pairOf, prod, refuse, type Compiler, type Layer, type Value } from './step-compiler.js';
import { dense, dropout } from './step-layers-resnet.js';
type Handler = (c: Compiler, l: Layer, x: Value) => void;

/** The geometry of a conv layer (its strides, dilation and padding from `cfg`) on input `x`; depthwise for its depthwise kernel. */
function layerConvInfo(x: Value, kernel: tf.LayerVariable, cfg: Record<string, unknown>, depthwise: boolean) {
  return tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    kernel.shape as [number, number, number, number],
    pairOf(cfg.strides),
    pairOf(cfg.dilationRate),
    cfg.padding as 'same' | 'valid',
    undefined,
    depthwise,
  );
}

function conv2d(c: Compiler, l: Layer, x: Value): void {
  const cfg = l.getConfig() as Record<string, unknown>;
  if (cfg.activation !== 'linear') refuse(`${l.name}: activation ${String(cfg.activation)} inside the conv`);
  const { f, w } = kernelOf(c, l);
  const ci = layerConvInfo(x, f.kernel, cfg, false);
  const p = convParams(ci, 1);
  const y = c.output(l, ci.outShape);
  const m = prod(ci.outShape.slice(0, 3)),
    oc = ci.outChannels;
  c.b.emit(PLAN_OP.Conv, 0, ...p, x.off, w.off, y.off);
  const bias = f.bias ? c.weight(f.bias) : null;
  if (bias) c.b.emit(PLAN_OP.BiasAdd, y.off, bias.off, m, oc, y.off);
  const from = inboundLayers(l)[0];
  c.onBackward(() => {
    const dy = c.grad(l);
    if (bias) c.b.emit(PLAN_OP.SumRows, dy, m, oc, bias.grad!);
    c.b.emit(PLAN_OP.Conv, 2, ...p, x.off, dy, w.grad!);
    c.contribute(from, (dst) => c.b.emit(PLAN_OP.Conv, 1, ...p, dy, w.off, dst));
  });
}

function separableConv2d(c: Compiler, l: Layer, x: Value): void {
  const cfg = l.getConfig() as Record<string, unknown>;
  if (cfg.activation !== 'linear' || cfg.useBias) refuse(`${l.name}: a separable conv with a bias or an activation`);
  const f = l as unknown as {
    depthwiseKernel: tf.LayerVariable;
    pointwiseKernel: tf.LayerVariable;
    depthwiseRegularizer: unknown;
    pointwiseRegularizer: unknown;
  };
  const dw = c.weight(f.depthwiseKernel, l2Of(f.depthwiseRegularizer));
  const pw = c.weight(f.pointwiseKernel, l2Of(f.pointwiseRegularizer));
  const dci = layerConvInfo(x, f.depthwiseKernel, cfg, true);
  const dp = convParams(dci, dci.inChannels);
  const t = { off: c.b.alloc(prod(dci.outShape)), shape: dci.outShape };
  const pci = tf.backend_util.computeConv2DInfo(
    dci.outShape as [number, number, number, number],
    f.pointwiseKernel.shape as [number, number, number, number],
    1,
    1,
    'valid',
  );
  const pp = convParams(pci, 1);
  const y = c.output(l, pci.outShape);
  c.b.emit(PLAN_OP.Conv, 0, ...dp, x.off, dw.off, t.off);
  c.b.emit(PLAN_OP.Conv, 0, ...pp, t.off, pw.off, y.off);
  const from = inboundLayers(l)[0];
  c.onBackward(() => {
    const dy = c.grad(l);
    const dt = c.scratch(prod(dci.outShape));
    c.b.emit(PLAN_OP.Conv, 2, ...pp, t.off, dy, pw.grad!);
    c.b.emit(PLAN_OP.Conv, 1, ...pp, dy, pw.off, dt);
    c.b.emit(PLAN_OP.Conv, 2, ...dp, x.off, dt, dw.grad!);
    c.contribute(from, (dst) => c.b.emit(PLAN_OP.Conv, 1, ...dp, dt, dw.off, dst));
    c.release(dt, prod(dci.outShape));
  });
}

/** The ReLU activation reading `l` alone, if any (fused into its batch norm). */
function soleRelu(l: Layer): Layer | null {
  const out = outboundLayers(l);
  if (out.length !== 1 || out[0].getClassName() !== 'Activation') return null;
  return (out[0].getConfig() as Record<string, unknown>).activation === 'relu' ? out[0] : null;
}

/** Batch norm with batch statistics, the moving statistics updated as tfjs-layers does; a ReLU after it fused in. */
function batchNormalization(c: Compiler, l: Layer, x: Value): void {
  const bn = batchNormInternals(l);
  const cfg = l.getConfig() as Record<string, unknown>;
  const axis = Array.isArray(bn.axis) ? bn.axis : [bn.axis];
  if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== x.shape.length - 1)) refuse(`${l.name}: batch norm over another axis`);
  if (!bn.gamma || !bn.beta || cfg.gammaRegularizer || cfg.betaRegularizer)
    refuse(`${l.name}: batch norm without gamma/beta or regularized`);
  const gamma = c.weight(bn.gamma),
    beta = c.weight(bn.beta),
    mm = c.weight(bn.movingMean),
    mv = c.weight(bn.movingVariance);
  const ch = x.shape[x.shape.length - 1],
    m = prod(x.shape) / ch;
  const fusedRelu = c.fuse ? soleRelu(l) : null;
  if (c.inference) {
    // tfjs-layers' batchNormalization with the moving statistics, the ReLU after it in place.
    const y = c.output(fusedRelu ?? l, x.shape);
    if (fusedRelu) c.fused.add(fusedRelu.name);
    c.b.emit(PLAN_OP.BnInfer, x.off, mm.off, mv.off, beta.off, gamma.off, m, ch, bitsOf(bn.epsilon), y.off);
    if (fusedRelu) c.b.emit(PLAN_OP.Relu, y.off, prod(x.shape), y.off);
    return;
  }
  const mean = c.b.alloc(ch),
    variance = c.b.alloc(ch);
  // Fused: the ReLU's output is the one value; the batch norm's own output is never written.
  const y = c.output(fusedRelu ?? l, x.shape);
  if (fusedRelu) c.fused.add(fusedRelu.name);
  const eps = bitsOf(bn.epsilon),
    decay = bitsOf(1 - bn.momentum);
  // Fused, the forward keeps its per-channel scale and shift, from which the backward recomputes ReLU's mask
  // instead of reading the ReLU's output (the same mask: the same float operations on the same x).
  const scaleShift = fusedRelu ? c.b.alloc(2 * ch) : -1;
  if (fusedRelu) c.b.emit(PLAN_OP.BnReluForward, x.off, gamma.off, beta.off, m, ch, eps, y.off, mean, variance, scaleShift);
  else c.b.emit(PLAN_OP.BnForward, x.off, gamma.off, beta.off, m, ch, eps, y.off, mean, variance);
  c.b.emit(PLAN_OP.BnMoving, mm.off, mean, ch, decay);
  c.b.emit(PLAN_OP.BnMoving, mv.off, variance, ch, decay);
  const from = inboundLayers(l)[0];
  c.onBackward(() => {
    const tail = [x.off, gamma.off, mean, variance, m, ch, eps];
    c.contribute(from, (dst) =>
      fusedRelu
        ? c.b.emit(PLAN_OP.BnReluBackward, c.grad(fusedRelu), scaleShift, ...tail, dst, gamma.grad!, beta.grad!)
        : c.b.emit(PLAN_OP.BnBackward, c.grad(l), ...tail, dst, gamma.grad!, beta.grad!),
    );
  }, [fusedRelu ?? l]);
}

export function relu(c: Compiler, l: Layer, x: Value): void {
  const n = prod(x.shape);
  const y = c.output(l, x.shape);
  c.b.emit(PLAN_OP.Relu, x.off, n, y.off);
  const from = inboundLayers(l)[0];
  c.onBackward(() => c.contribute(from, (dst) => c.b.emit(PLAN_OP.ReluGrad, c.grad(l), x.off, n, dst)));
}

function maxPooling2d(c: Compiler, l: Layer, x: Value): void {
  const cfg = l.getConfig() as Record<string, unknown>;
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    pairOf(cfg.poolSize),
    pairOf(cfg.strides ?? cfg.poolSize),
    1,
    cfg.padding as 'same' | 'valid',
  );
  const p = poolParams(info);
  const y = c.output(l, info.outShape);
  const from = inboundLayers(l)[0];
  if (c.inference) return c.b.emit(PLAN_OP.MaxPool, ...p, x.off, y.off);
  // Each maximum's place in its window (a uint32 per output): the gradient reads these instead of scanning every
  // window of x again (same results, bit for bit).
  const idx = c.b.alloc(prod(info.outShape));
  c.b.emit(PLAN_OP.MaxPoolArg, ...p, x.off, y.off, idx);
  c.onBackward(() => c.contribute(from, (dst) => c.b.emit(PLAN_OP.MaxPoolGradArg, ...p, c.grad(l), idx, dst)));
}

function add(c: Compiler, l: Layer): void {
  const from = inboundLayers(l);
  if (from.length !== 2) refuse(`${l.name}: an Add of ${from.length} inputs`);
  const [a, b] = from.map((f) => c.values.get(f.name)!);
  if (prod(a.shape) !== prod(b.shape)) refuse(`${l.name}: a broadcasting Add`);
  const y = c.output(l, a.shape);
  c.b.emit(PLAN_OP.Add, a.off, b.off, prod(a.shape), y.off);
  c.onBackward(() => {
    const dy = c.grad(l);
    for (const f of from) c.contributeBuffer(f, dy);
  });
}

function globalAveragePooling2d(c: Compiler, l: Layer, x: Value): void {
  const [n, h, w, ch] = x.shape;
  const y = c.output(l, [n, ch]);
  c.b.emit(PLAN_OP.Gap, x.off, n, h * w, ch, y.off);
  const from = inboundLayers(l)[0];
  c.onBackward(() => c.contribute(from, (dst) => c.b.emit(PLAN_OP.GapGrad, c.grad(l), n, h * w, ch, dst)));
}

export const HANDLERS: Record<string, Handler> = {
  Conv2D: conv2d,
  SeparableConv2D: separableConv2d,
  BatchNormalization: batchNormalization,
  MaxPooling2D: maxPooling2d,
  Add: (c, l) => add(c, l),
  GlobalAveragePooling2D: globalAveragePooling2d,
  Dense: dense,
  Dropout: dropout,
};

/** The model's softmax output over [N, classes] logits: probabilities, loss and dL/dlogits in one op. */
