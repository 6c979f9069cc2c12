/** `fer serve DIR`: the folder `fer export web` wrote, on localhost, until Ctrl-C. */
import { Command } from 'commander';
import { z } from 'zod';
import { serveSite } from '../web/site.js';
import { out, showSchemaDefaults } from './common.js';

export const serveSchema = z.object({
  dir: z.string(),
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  host: z.string().default('127.0.0.1'),
});

export function serveCommand(): Command {
  const cmd = new Command('serve')
    .description('serve a folder written by fer export web on localhost (cross-origin isolated: onnxruntime-web may use threads)')
    .argument('<dir>', 'the folder fer export web wrote')
    .option('--port <n>', 'port (0: any free one)')
    .option('--host <h>', 'address to listen on');
  showSchemaDefaults(cmd, serveSchema);
  cmd.action(async (dir: string, flags) => {
    const o = serveSchema.parse({ ...flags, dir });
    const s = await serveSite(o.dir, o.port, o.host);
    out(`serving ${o.dir} at ${s.url} (Ctrl-C to stop)`);
    await new Promise<void>((resolve) => {
      const stop = () => void s.close().then(resolve);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  });
  return cmd;
}
