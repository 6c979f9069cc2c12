/**
 * The only import of onnxruntime-node. Sessions with fer's defaults, provider detection (CUDA and
 * TensorRT exist only where their binaries were installed), and a typed run helper.
 */
import * as ort from 'onnxruntime-node';
import { ortMessage, readOnnxFile } from '../onnx/validate.js';
import { UsageError, RuntimeFailure } from '../errors.js';

/**
 * onnxruntime's own log goes to stderr; fer reports failures itself (as exceptions turned into one-line
 * messages), and probing a missing provider would otherwise print two multi-line errors. Set before fer's
 * first session, not at import (ort.env is process-wide).
 */
function quietOrt(): void {
  if (ort.env.logLevel !== 'fatal') ort.env.logLevel = 'fatal';
}

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
  /** Write the graph as onnxruntime optimized it (which ops it fused) to this file. */
  optimizedModelFile?: string;
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

// The smallest valid model (Identity on a float[1], opset 13; bytes from onnx.helper): probes providers.
const PROBE_MODEL = Uint8Array.from(
  Buffer.from('CAcSA2Zlcjo7ChAKAXgSAXkiCElkZW50aXR5EgVwcm9iZVoPCgF4EgoKCAgBEgQKAggBYg8KAXkSCgoICAESBAoCCAFCBAoAEA0=', 'base64'),
);

const probed = new Map<Provider, boolean>();

/**
 * Whether this onnxruntime-node install can run a provider here. onnxruntime-node lists CUDA and
 * TensorRT on every linux-x64 build, but their libraries exist only where they were installed, so the
 * answer comes from creating a session, once per provider.
 */
export async function providerAvailable(p: Provider): Promise<boolean> {
  if (p === 'cpu') return true;
  if (!probed.has(p)) {
    const listed = ((ort as unknown as { listSupportedBackends?: () => { name: string }[] }).listSupportedBackends?.() ?? []).some(
      (b) => b.name.toLowerCase() === p,
    );
    let ok = false;
    if (listed) {
      quietOrt();
      try {
        const s = await ort.InferenceSession.create(PROBE_MODEL, { executionProviders: [p], logSeverityLevel: 4 });
        await s.release();
        ok = true;
      } catch {
        ok = false;
      }
    }
    probed.set(p, ok);
  }
  return probed.get(p)!;
}

export async function availableProviders(): Promise<Provider[]> {
  const out: Provider[] = [];
  for (const p of PROVIDERS) if (await providerAvailable(p)) out.push(p);
  return out;
}

function providerConfig(o: SessionOptions, p: Provider): ort.InferenceSession.ExecutionProviderConfig[] {
  if (p === 'cuda') return [{ name: 'cuda', deviceId: o.deviceId ?? 0 } as ort.InferenceSession.ExecutionProviderConfig, 'cpu'];
  if (p === 'tensorrt') {
    return [
      {
        name: 'tensorrt',
        deviceId: o.deviceId ?? 0,
        ...(o.trtFp16 ? { trt_fp16_enable: true } : {}),
        ...(o.trtInt8 ? { trt_int8_enable: true } : {}),
        ...(o.trtCacheDir ? { trt_engine_cache_enable: true, trt_engine_cache_path: o.trtCacheDir } : {}),
      } as ort.InferenceSession.ExecutionProviderConfig,
      'cuda',
      'cpu',
    ];
  }
  return ['cpu'];
}

export async function createSession(model: string | Uint8Array, o: SessionOptions = {}): Promise<FerSession> {
  let provider: Provider = o.provider ?? 'cpu';
  let note: string | undefined;
  if (!(await providerAvailable(provider))) {
    const msg = `runtime: execution provider "${provider}" is not available in this onnxruntime-node install (available: ${(await availableProviders()).join(', ')})`;
    if (!o.fallback) {
      throw new UsageError(msg, {
        hint: 'on a GPU machine: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node; or pass --fallback',
      });
    }
    note = `${msg}; falling back to cpu`;
    provider = 'cpu';
  }
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: providerConfig(o, provider),
    graphOptimizationLevel: o.graphOptimization ?? 'all',
    // Flush denormal floats to zero in onnxruntime's threads (x86 computes them ~100× slower).
    extra: { session: { set_denormal_as_zero: '1' } },
    executionMode: o.executionMode ?? 'sequential',
    ...(o.threads ? { intraOpNumThreads: o.threads, interOpNumThreads: 1 } : {}),
    ...(o.profile ? { enableProfiling: true, profileFilePrefix: o.profile } : {}),
    ...(o.optimizedModelFile ? { optimizedModelFilePath: o.optimizedModelFile } : {}),
  };
  let session: ort.InferenceSession;
  if (typeof model === 'string') readOnnxFile(model); // paths, sizes and dims checked first (onnx/validate.ts)
  quietOrt();
  try {
    session =
      typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
  } catch (e) {
    throw new RuntimeFailure(`runtime: onnxruntime could not load the model: ${ortMessage(e)}`, { cause: e });
  }
  const inputName = session.inputNames[0],
    outputName = session.outputNames[0];
  return {
    session,
    provider,
    note,
    inputName,
    outputName,
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
