/**
 * The only import of onnxruntime-node. Sessions with fer's defaults, provider detection (CUDA and
 * TensorRT exist only where their binaries were installed), and a typed run helper.
 */
import * as ort from 'onnxruntime-node';
import { UsageError, RuntimeFailure } from '../errors.js';

export const PROVIDERS = ['cpu', 'cuda', 'tensorrt'] as const;
export type Provider = (typeof PROVIDERS)[number];

export interface SessionOptions {
  provider?: Provider;
  threads?: number;
  /** Fall back to CPU (with a note) when the provider is missing instead of failing. */
  fallback?: boolean;
  graphOptimization?: 'disabled' | 'basic' | 'extended' | 'all';
  executionMode?: 'sequential' | 'parallel';
  profile?: string;
  deviceId?: number;
  trtFp16?: boolean;
  trtInt8?: boolean;
  trtCacheDir?: string;
}

export interface FerSession {
  session: ort.InferenceSession;
  provider: Provider;
  note?: string;
  inputName: string;
  outputName: string;
  run(data: Float32Array, dims: number[]): Promise<Float32Array>;
  release(): Promise<void>;
}

/** Providers this onnxruntime-node build can use on this machine. */
export function availableProviders(): Provider[] {
  const backends = (ort as unknown as { listSupportedBackends?: () => { name: string }[] }).listSupportedBackends?.() ?? [];
  const names = new Set(backends.map((b) => b.name.toLowerCase()));
  return PROVIDERS.filter((p) => p === 'cpu' || names.has(p));
}

function providerConfig(o: SessionOptions, p: Provider): ort.InferenceSession.ExecutionProviderConfig[] {
  if (p === 'cuda') return [{ name: 'cuda', deviceId: o.deviceId ?? 0 } as ort.InferenceSession.ExecutionProviderConfig, 'cpu'];
  if (p === 'tensorrt') {
    return [{
      name: 'tensorrt', deviceId: o.deviceId ?? 0,
      ...(o.trtFp16 ? { trt_fp16_enable: true } : {}), ...(o.trtInt8 ? { trt_int8_enable: true } : {}),
      ...(o.trtCacheDir ? { trt_engine_cache_enable: true, trt_engine_cache_path: o.trtCacheDir } : {}),
    } as ort.InferenceSession.ExecutionProviderConfig, 'cuda', 'cpu'];
  }
  return ['cpu'];
}

export async function createSession(model: string | Uint8Array, o: SessionOptions = {}): Promise<FerSession> {
  let provider: Provider = o.provider ?? 'cpu';
  let note: string | undefined;
  if (!availableProviders().includes(provider)) {
    const msg = `runtime: execution provider "${provider}" is not available in this onnxruntime-node install (available: ${availableProviders().join(', ')})`;
    if (!o.fallback) {
      throw new UsageError(msg, { hint: 'on a GPU machine: npm install onnxruntime-node --onnxruntime-node-install-cuda=v12; or pass --fallback' });
    }
    note = `${msg}; falling back to cpu`;
    provider = 'cpu';
  }
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: providerConfig(o, provider),
    graphOptimizationLevel: o.graphOptimization ?? 'all',
    executionMode: o.executionMode ?? 'sequential',
    ...(o.threads ? { intraOpNumThreads: o.threads, interOpNumThreads: 1 } : {}),
    ...(o.profile ? { enableProfiling: true, profileFilePrefix: o.profile } : {}),
  };
  let session: ort.InferenceSession;
  try {
    session = typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
  } catch (e) {
    throw new RuntimeFailure(`runtime: onnxruntime could not load the model: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  const inputName = session.inputNames[0], outputName = session.outputNames[0];
  return {
    session, provider, note, inputName, outputName,
    async run(data, dims) {
      const feeds = { [inputName]: new ort.Tensor('float32', data, dims) };
      const result = await session.run(feeds);
      return result[outputName].data as Float32Array;
    },
    async release() {
      if (o.profile) session.endProfiling();
      await session.release();
    },
  };
}

/** Metadata properties stored in an ONNX model (read through the protobuf, not the session). */
export { ort };
