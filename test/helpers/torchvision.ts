/**
 * Python torch + torchvision as a reference (Debian's python3-torch / python3-torchvision are the
 * same libtorch as the addon; see pytorch.ts for the interpreter). Tensors cross over as
 * safetensors files; the Python side reads and writes the format with struct + json
 * (SAFETENSORS_PY), so no Python safetensors package is needed.
 */
import { pythonHas, runPython as run } from './pytorch';

/** True when the interpreter can import torch and torchvision. */
export function hasTorchvision(): boolean {
  return pythonHas('torch, torchvision');
}

/** Python helpers: save(path, {name: tensor}) and load(path) -> {name: tensor}, safetensors format. */
export const SAFETENSORS_PY = String.raw`
import json, struct, torch, numpy as np
_DT = {torch.float32: 'F32', torch.float64: 'F64', torch.int64: 'I64', torch.int32: 'I32', torch.uint8: 'U8'}
_NP = {'F32': np.float32, 'F64': np.float64, 'I64': np.int64, 'I32': np.int32, 'U8': np.uint8}

def save(path, tensors):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        b = t.numpy().astype(t.numpy().dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': _DT[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)

def load(path):
    with open(path, 'rb') as f:
        data = f.read()
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        a, b = e['data_offsets']
        arr = np.frombuffer(data[base + a:base + b], dtype=np.dtype(_NP[e['dtype']]).newbyteorder('<'))
        out[name] = torch.from_numpy(arr.astype(_NP[e['dtype']]).reshape(e['shape']).copy())
    return out
`;

/** Runs a Python script with SAFETENSORS_PY prepended; returns its stdout. */
export function runPython(script: string, args: string[] = []): string {
  return run(`${SAFETENSORS_PY}\n${script}`, { args });
}
