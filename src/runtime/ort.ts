/**
 * The only import of onnxruntime-node. Sessions with fer's defaults, provider detection (CUDA and
 * TensorRT exist only where their binaries were installed), and a typed run helper.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ortLoadError, readOnnxFile } from '../onnx/validate.js';
import { UsageError } from '../errors.js';

const require = createRequire(import.meta.url);

/**
 * onnxruntime's own log goes to stderr; fer reports failures itself (as exceptions turned into one-line
 * messages), and probing a missing provider would otherwise print two multi-line errors. Set before fer's
 * first session, not at import (ort.env is process-wide).
 */
function quietOrt(): void {
  if (ort.env.logLevel !== 'fatal') ort.env.logLevel = 'fatal';
}

/** The onnxruntime-node execution providers fer runs models on. */
export const PROVIDERS = ['cpu', 'cuda', 'tensorrt'] as const;
export type Provider = (typeof PROVIDERS)[number];
/** What a user may ask for: a provider, or `auto` (the first of AUTO_PROVIDERS this install can run). */
export const PROVIDER_CHOICES = ['auto', ...PROVIDERS] as const;
export type ProviderChoice = (typeof PROVIDER_CHOICES)[number];
/**
 * `auto`'s order. TensorRT is not in it: its first session builds an engine for minutes and it needs the
 * user's TensorRT 10 besides CUDA, so it runs only when asked for by name.
 */
export const AUTO_PROVIDERS: readonly Provider[] = ['cuda', 'cpu'];

export interface SessionOptions {
  /** The provider to run on (default cpu); `auto`: cuda where this install can run it, else cpu. */
  provider?: ProviderChoice;
  /** Providers in order of preference (the first one available runs); overrides `provider`. */
  executionProviders?: readonly Provider[];
  threads?: number;
  /**
   * Let onnxruntime's intra-op threads spin after a run, waiting for the next (its default; default here: off).
   * Spinning lowers a lone model's latency a little; beside the other work of a pipeline (fer predict decodes,
   * detects and classifies several photos at once) it burns the cores the rest needs: off, the whole of `fer predict`
   * on 640×480 photos spent 53 ms of CPU a photo instead of 73–75 (BENCHMARKS.md). `fer bench` turns it on.
   */
  spinning?: boolean;
  /** Fall back to CPU (with a note) when no requested provider is available instead of failing. */
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
  /** The provider this session runs on (onnxruntime places on CPU only the nodes the provider has no kernel for). */
  provider: Provider;
  /** What was asked for: `auto`, a provider, or a list of them joined by commas. */
  requested: string;
  /** Set when the provider is not the first one asked for: which was missing, and why. */
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

/** onnxruntime-node's own list of the providers its build has on this platform (`bundled: false`: downloaded at install). */
export function listedProviders(): { name: string; bundled: boolean }[] {
  return ort.listSupportedBackends().map((b) => ({ name: b.name.toLowerCase(), bundled: b.bundled }));
}

/** Why a provider cannot run here (null: it can). */
const probed = new Map<Provider, string | null>();

/** The folder holding onnxruntime-node's binding and, where they were installed, the CUDA/TensorRT provider libraries. */
export function ortBinDir(): string {
  return path.join(path.dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

/**
 * Why onnxruntime-node cannot run `p` here, or null when it can. A provider must be in onnxruntime-node's
 * list for this platform; CUDA and TensorRT are listed on every linux-x64 install but their libraries exist
 * only where the install script downloaded them, and load only with CUDA 12 and cuDNN 9 (TensorRT 10 for
 * tensorrt) on the library path, so the answer comes from creating a session, once per provider.
 */
export async function providerProblem(p: Provider): Promise<string | null> {
  if (p === 'cpu') return null;
  if (!probed.has(p)) {
    const listed = listedProviders().find((b) => b.name === p);
    let problem: string | null = null;
    if (!listed) {
      problem = `onnxruntime-node ${ort.env.versions.node ?? ''} has no ${p} provider on ${process.platform}-${process.arch}`;
    } else if (!listed.bundled && !existsSync(path.join(ortBinDir(), `libonnxruntime_providers_${p}.so`))) {
      problem = `its library libonnxruntime_providers_${p}.so was not installed (onnxruntime-node's install skipped the download)`;
    } else {
      quietOrt();
      try {
        const s = await ort.InferenceSession.create(PROBE_MODEL, { executionProviders: [p], logSeverityLevel: 4 });
        await s.release();
      } catch (e) {
        problem = `it failed to load: ${(e as Error).message.split('\n')[0]}`;
      }
    }
    probed.set(p, problem);
  }
  return probed.get(p)!;
}

export async function providerAvailable(p: Provider): Promise<boolean> {
  return (await providerProblem(p)) === null;
}

export async function availableProviders(): Promise<Provider[]> {
  const out: Provider[] = [];
  for (const p of PROVIDERS) if (await providerAvailable(p)) out.push(p);
  return out;
}

/** The hint of the missing-provider error: what gets CUDA and TensorRT (README, "CUDA and TensorRT"). */
export const PROVIDER_HINT =
  'CUDA needs linux-x64, CUDA 12 and cuDNN 9 (TensorRT also TensorRT 10), then `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` (README, "CUDA and TensorRT"); or pass --fallback to run on cpu';

export interface ProviderChoiceResult {
  provider: Provider;
  requested: string;
  note?: string;
}

/**
 * The provider that runs, from the ones asked for (`auto` or a list in order of preference): the first one
 * `problem` has nothing against. None: an error naming the first one and why, unless `fallback` (then cpu,
 * with a note). Any provider other than the first one asked for comes with a note; never a silent switch.
 */
export async function chooseProvider(
  asked: ProviderChoice | readonly Provider[],
  o: { fallback?: boolean; what?: string } = {},
  problem: (p: Provider) => Promise<string | null> = providerProblem,
): Promise<ProviderChoiceResult> {
  const list = asked === 'auto' ? AUTO_PROVIDERS : typeof asked === 'string' ? [asked] : asked;
  if (!list.length) throw new UsageError(`${o.what ?? 'runtime'}: no execution provider given`);
  const requested = typeof asked === 'string' ? asked : asked.join(',');
  const skipped: string[] = [];
  for (const p of list) {
    const why = await problem(p);
    if (why === null) {
      const note = skipped.length ? `${skipped.join('; ')}; running on ${p}` : undefined;
      return { provider: p, requested, note };
    }
    skipped.push(`execution provider "${p}" is not available: ${why}`);
  }
  const available: Provider[] = [];
  for (const p of PROVIDERS) if ((await problem(p)) === null) available.push(p);
  const msg = `${skipped[0]} (available: ${available.join(', ') || 'none'})`;
  if (!o.fallback || !available.includes('cpu')) throw new UsageError(`${o.what ?? 'runtime'}: ${msg}`, { hint: PROVIDER_HINT });
  return { provider: 'cpu', requested, note: `${skipped.join('; ')}; falling back to cpu (--fallback)` };
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
  const { provider, requested, note } = await chooseProvider(o.executionProviders ?? o.provider ?? 'cpu', { fallback: o.fallback });
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: providerConfig(o, provider),
    graphOptimizationLevel: o.graphOptimization ?? 'all',
    // Flush denormal floats to zero in onnxruntime's threads (x86 computes them ~100× slower). onnxruntime also sets
    // flush-to-zero and denormals-are-zero on the thread creating the session, JavaScript's, for good: from then on
    // JavaScript float32 arithmetic flushes denormals too (onnx/layout.ts flushDenormals keeps exports the same).
    extra: { session: { set_denormal_as_zero: '1', 'intra_op.allow_spinning': o.spinning ? '1' : '0' } },
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
    throw ortLoadError(e); // a model onnxruntime cannot parse or check is exit 3; anything else 4
  }
  const inputName = session.inputNames[0],
    outputName = session.outputNames[0];
  return {
    session,
    provider,
    requested,
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

/** onnxruntime-node itself, for the modules that need its types or tensors (this file is its one import). */
export { ort };
