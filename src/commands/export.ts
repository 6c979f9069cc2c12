/** `fer export onnx`: write (and verify) an ONNX model. */
import { Command } from 'commander';
import { packageVersion } from '../paths.js';
import { z } from 'zod';
import { exportOptionsSchema } from '../convert/options.js';
import { defaultOnnxFile, exportNeedsSample, exportOnnx } from '../convert/export.js';
import { exportText } from '../convert/text.js';
import { DEFAULT_ONNX, SAMPLE_DATA, resolveModel } from '../model/default.js';
import { prepareOut } from '../io/files.js';
import { modelSchema } from '../model/default.js';
import { out, refuseUnused, showSchemaDefaults, startEngine, withEngineOptions, withForce } from './common.js';
import { exportWeb } from '../web/site.js';
import { loadWithSummary, printJson } from './printers.js';
import { libraryOptions } from '../util/options.js';

/** exportOnnx's options (their defaults included; `--target` names int8Target) and the command's own. */
export const exportSchema = exportOptionsSchema.omit({ int8Target: true }).extend({
  target: exportOptionsSchema.shape.int8Target,
  model: modelSchema,
  out: z.string().optional(),
  data: z.string().default(SAMPLE_DATA),
  force: z.boolean().default(false),
  json: z.boolean().default(false),
});

export function exportCommand(): Command {
  const cmd = new Command('export').description('export a trained model to another format');
  const onnx = new Command('onnx')
    .description("write an ONNX model (fp32, fp16, int8 QDQ or int4) with fer's own graph writer, verified with onnxruntime-node")
    .option('--model <path>', 'fer model directory, or a shipped model by name (default: the shipped model)')
    .option('--out <file>', 'output .onnx (default: ./<model name>.<precision>.onnx; int8 for TensorRT: .int8-tensorrt.onnx)')
    .option('--precision <p>', 'fp32 | fp16 | int8 | int4 (4-bit weights per channel, opset 21)')
    .option(
      '--target <t>',
      'int8 graph: cpu (int8 weights, float compute: never slower than fp32 on CPU; default) | tensorrt (full-integer QDQ for TensorRT and NPUs)',
    )
    .option('--nchw', 'NCHW input [N,1,48,48] instead of NHWC [N,48,48,1]')
    .option('--names <n>', 'tensor names: short (a letter or two: int4 default, smallest file) | full (layer names: the others)')
    .option('--no-keep-io-float32', 'fp16: float16 input and output too')
    .option('--no-verify', 'skip the onnxruntime-vs-tfjs check')
    .option('--data <dir|csv>', 'images for verification and int8 calibration (default: bundled fixtures)')
    .option('--json', 'print the result as JSON');
  withEngineOptions(withForce(onnx));
  showSchemaDefaults(onnx, exportSchema);
  onnx.action(async (flags) => {
    const o = exportSchema.parse(flags);
    refuseUnused(onnx, [
      ['target', o.precision !== 'int8', '--precision int8'],
      ['keepIoFloat32', o.precision !== 'fp16', '--precision fp16'],
    ]);
    await startEngine(flags, true);
    const sample = exportNeedsSample({ ...o, int8Target: o.target }) ? await loadWithSummary(o.data, undefined, true) : undefined;
    const file = o.out ?? defaultOnnxFile(o.model, o.precision, o.target);
    prepareOut(file, 'onnx', o.force, [o.model]);
    const r = await exportOnnx(o.model, file, {
      ...libraryOptions(exportOptionsSchema, o),
      int8Target: o.target,
      version: packageVersion(),
      sample,
    });
    if (!printJson(o.json, r)) out(exportText(r, o.verify));
  });
  cmd.addCommand(onnx);
  cmd.addCommand(webCommand());
  return cmd;
}

export const webSchema = z.object({
  model: z
    .string()
    .default(DEFAULT_ONNX)
    .transform((p) => resolveModel(p, 'onnx')),
  out: z.string().default('fer-web'),
  force: z.boolean().default(false),
  json: z.boolean().default(false),
});

function webCommand(): Command {
  const web = new Command('web')
    .description(
      'write a static web page (webcam, photo or video → faces, landmarks, emotions) that runs the model in the browser on onnxruntime-web; serve it with fer serve',
    )
    .option(
      '--model <path>',
      'classifier: an .onnx file, a fer model (exported to fp32 ONNX first) or a shipped model by name; default the shipped model',
    )
    .option('--out <dir>', 'output folder')
    .option('--json', 'print the result as JSON');
  withEngineOptions(withForce(web));
  showSchemaDefaults(web, webSchema);
  web.action(async (flags) => {
    const o = webSchema.parse(flags);
    prepareOut(o.out, 'web', o.force, [o.model]);
    await startEngine(flags, true); // face-api's weights load on tfjs
    const r = await exportWeb(o.out, o.model); // a fer model is exported to ONNX first
    if (printJson(o.json, r)) return;
    const mib = (b: number) => `${(b / 1048576).toFixed(2)} MiB`;
    out(`wrote ${r.dir}: ${r.files.length} files, ${mib(r.bytes)} (classes: ${r.classes.join(', ')})`);
    for (const f of r.files) out(`  ${f.name.padEnd(28)} ${(f.bytes / 1024).toFixed(1).padStart(9)} KiB`);
    out(`try it: fer serve ${r.dir}`);
  });
  return web;
}
