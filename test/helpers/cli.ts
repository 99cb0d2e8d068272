import { runCli, type CliDeps } from '../../src/cli';

/** Runs the CLI in this process, its output captured: `args` as typed after `signin-torch`. */
export async function cli(args: string[], deps: CliDeps = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(['node', 'signin-torch', ...args], { out: (t) => { out += t; }, err: (t) => { err += t; } }, deps);
  return { code, out, err };
}
