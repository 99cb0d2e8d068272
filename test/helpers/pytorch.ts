/**
 * Python as an independent reference for the tests. runPython below is the one place that starts
 * the interpreter; the helpers for PyTorch snippets here, torch-ref.ts, torchvision.ts and the data
 * tests all go through it.
 *
 * The interpreter is the Debian python (/usr/bin/python3 + torch 1.13, the same libtorch; NOT the
 * `python3` first on PATH), or SIGNIN_TORCH_PYTHON. When it lacks torch, the suites that need it
 * fail, unless SIGNIN_TORCH_SKIP_PYTORCH=1 (then they are skipped, with a warning).
 *
 * runPytorch exchanges arrays as raw little-endian float64 files plus a JSON manifest; nothing of
 * this toolkit runs on the Python side. Its snippet sees `torch`, `math`, `inp` (name -> float64
 * tensor, reshaped) and `args` (the JSON value passed in); it fills `out` (name -> tensor, any
 * float dtype) and may set `res` (JSON).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DType, Tensor } from '../../src';

export const PYTHON = process.env.SIGNIN_TORCH_PYTHON ?? '/usr/bin/python3';

export interface PythonOptions {
  /** sys.argv[1:]. */
  args?: string[];
  /** Text on stdin. */
  input?: string;
  /** Default 5 minutes: the runs block the event loop, so this is the only guard against a hang. */
  timeoutMs?: number;
}

/**
 * Runs a Python script and returns its stdout; throws with its stderr otherwise. The script goes
 * through a file so that tracebacks quote the failing line; OpenMP runs single-threaded, which
 * makes references deterministic and leaves the cores to the test run. The script runs from a
 * temporary folder, so test/helpers goes on PYTHONPATH for the Python modules kept there
 * (cifar_resnet.py).
 */
export function runPython(script: string, opts: PythonOptions = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-python-'));
  try {
    const file = path.join(dir, 'snippet.py');
    fs.writeFileSync(file, script);
    const r = spawnSync(PYTHON, [file, ...(opts.args ?? [])], {
      input: opts.input, encoding: 'utf8', maxBuffer: 1 << 28, timeout: opts.timeoutMs ?? 300_000,
      env: { ...process.env, OMP_NUM_THREADS: '1', PYTHONPATH: [__dirname, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter) },
    });
    if (r.status !== 0) {
      const why = r.error?.message ?? (r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`);
      throw new Error(`${PYTHON} failed (${why}):\n${r.stderr}`);
    }
    return r.stdout;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs a script that reads JSON (`input`) on stdin and prints JSON; returns that. */
export function runPythonJson<T>(script: string, input: unknown, opts: PythonOptions = {}): T {
  return JSON.parse(runPython(script, { ...opts, input: JSON.stringify(input) })) as T;
}

const importable = new Map<string, boolean>();

/** True when PYTHON can import `modules` (e.g. 'torch, torchvision'); asked once per list. */
export function pythonHas(modules: string): boolean {
  let ok = importable.get(modules);
  if (ok === undefined) {
    try {
      runPython(`import ${modules}`, { timeoutMs: 60_000 });
      ok = true;
    } catch {
      ok = false;
    }
    importable.set(modules, ok);
  }
  return ok;
}

/** A dense array with its shape: what crosses to and from Python. */
export interface PyArray {
  shape: number[];
  data: Float64Array;
}

/** True when the reference interpreter can import torch. */
export function pytorchAvailable(): boolean {
  return pythonHas('torch');
}

/**
 * `describe` for suites that need PyTorch. Without it: a failing suite (the reference is part of
 * the test), or a skipped one when SIGNIN_TORCH_SKIP_PYTORCH=1.
 */
export function describePytorch(name: string, fn: () => void): void {
  if (pytorchAvailable()) {
    describe(name, fn);
  } else if (process.env.SIGNIN_TORCH_SKIP_PYTORCH === '1') {
    // eslint-disable-next-line no-console
    console.warn(`skipping '${name}': ${PYTHON} cannot import torch (apt-get install -y python3-torch)`);
    describe.skip(name, fn);
  } else {
    describe(name, () => {
      it('needs PyTorch as its reference', () => {
        throw new Error(`${PYTHON} cannot import torch: apt-get install -y python3-torch, or set SIGNIN_TORCH_SKIP_PYTORCH=1 to skip`);
      });
    });
  }
}

const PRELUDE = `
import json, math, os, sys
import torch
_d = sys.argv[1]
_man = json.load(open(os.path.join(_d, 'in.json')))
args = _man['args']
inp = {}
for _k, _v in _man['tensors'].items():
    _b = bytearray(open(os.path.join(_d, _v['file']), 'rb').read())
    _t = torch.frombuffer(_b, dtype=torch.float64) if len(_b) else torch.empty(0, dtype=torch.float64)
    inp[_k] = _t.reshape(_v['shape']).clone()
out = {}
res = None
`;

const EPILOGUE = `
_o = {}
for _i, (_k, _t) in enumerate(out.items()):
    _t = torch.as_tensor(_t).detach().to(torch.float64).contiguous()
    open(os.path.join(_d, 'out_%d.bin' % _i), 'wb').write(_t.numpy().tobytes())
    _o[_k] = {'file': 'out_%d.bin' % _i, 'shape': list(_t.shape)}
json.dump({'tensors': _o, 'res': res}, open(os.path.join(_d, 'out.json'), 'w'))
`;

/** Strips the common indentation of a snippet written inside indented TypeScript. */
export function dedent(code: string): string {
  const lines = code.replace(/\t/g, '    ').split('\n');
  const widths = lines.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length);
  const min = widths.length ? Math.min(...widths) : 0;
  return lines.map((l) => l.slice(min)).join('\n');
}

export interface PytorchResult {
  out: Record<string, PyArray>;
  res: unknown;
}

/** Runs `code` with PYTHON's torch; throws with Python's stderr when it fails. */
export function runPytorch(code: string, inputs: Record<string, PyArray> = {}, args: unknown = null): PytorchResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-pytorch-'));
  try {
    const tensors: Record<string, { file: string; shape: number[] }> = {};
    Object.entries(inputs).forEach(([name, a], i) => {
      const n = a.shape.reduce((x, y) => x * y, 1);
      if (n !== a.data.length) throw new Error(`runPytorch: input ${name} has ${a.data.length} values for shape [${a.shape}]`);
      const file = `in_${i}.bin`;
      fs.writeFileSync(path.join(dir, file), Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength));
      tensors[name] = { file, shape: a.shape };
    });
    fs.writeFileSync(path.join(dir, 'in.json'), JSON.stringify({ tensors, args }));
    runPython(`${PRELUDE}\n${dedent(code)}\n${EPILOGUE}`, { args: [dir] });
    const man = JSON.parse(fs.readFileSync(path.join(dir, 'out.json'), 'utf8')) as {
      tensors: Record<string, { file: string; shape: number[] }>;
      res: unknown;
    };
    const out: Record<string, PyArray> = {};
    for (const [k, v] of Object.entries(man.tensors)) {
      const buf = fs.readFileSync(path.join(dir, v.file));
      const data = new Float64Array(buf.byteLength / 8);
      new Uint8Array(data.buffer).set(buf);
      out[k] = { shape: v.shape, data };
    }
    return { out, res: man.res };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---- conversions to and from this toolkit's tensors (test side only) ----

// Required on first use, not imported: the unit tests use runPython without loading the addon.
function toolkit(): typeof import('../../src') {
  return require('../../src') as typeof import('../../src');
}

/** A tensor's values as float64 (exact for float32), with its shape. */
export function toPy(t: Tensor): PyArray {
  return toolkit().tidy(() => ({ shape: t.shape, data: Float64Array.from(t.detach().to('float64').data() as Float64Array) }));
}

/** A new tensor of `dtype` holding the array's values (owned by the caller's tidy scope, if any). */
export function fromPy(a: PyArray, dtype: DType = 'float32'): Tensor {
  const { tidy, fromTypedArray } = toolkit();
  return tidy(() => fromTypedArray(Float64Array.from(a.data), a.shape).to(dtype));
}

// ---- deterministic test data (independent of libtorch's RNG) and comparisons ----

/** A seeded uniform [0, 1) generator (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Normal values (Box-Muller) rounded to float32, so both sides start from identical numbers. */
export function randnArray(shape: number[], rand: () => number, scale = 1): PyArray {
  const n = shape.reduce((x, y) => x * y, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = 1 - rand();
    const v = rand();
    data[i] = Math.fround(scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  }
  return { shape, data };
}

/** A 0/1 mask keeping about `density` of the elements. */
export function maskArray(shape: number[], rand: () => number, density: number): PyArray {
  const n = shape.reduce((x, y) => x * y, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = rand() < density ? 1 : 0;
  return { shape, data };
}

/**
 * Fails unless |actual − expected| ≤ atol + rtol·|expected| everywhere (over the elements where
 * `where` is nonzero, if given); the message names the worst element.
 */
export function expectClose(actual: PyArray | ArrayLike<number>, expected: PyArray | ArrayLike<number>, rtol: number, atol: number,
  label: string, where?: ArrayLike<number>): void {
  const a = 'data' in actual ? (actual as PyArray).data : (actual as ArrayLike<number>);
  const e = 'data' in expected ? (expected as PyArray).data : (expected as ArrayLike<number>);
  if (a.length !== e.length) throw new Error(`${label}: ${a.length} values but expected ${e.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    if (where && where[i] === 0) continue;
    const excess = Math.abs(a[i] - e[i]) - (atol + rtol * Math.abs(e[i]));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    throw new Error(`${label}: element ${worst} is ${a[worst]} but expected ${e[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}
