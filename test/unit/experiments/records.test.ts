import * as fs from 'node:fs';
import * as path from 'node:path';
import { runPaths } from '../../../src/experiments/paths';
import { copyRunRecords, recordsDir } from '../../../src/experiments/records';
import { writeReport } from '../../../src/experiments/report';
import { bytesRead, SMALL_READ_BYTES } from '../../helpers/bytes-read';
import { errorOf } from '../../helpers/error-of';
import { fakeRun, removeDir, tempDir } from './fixtures';

let root: string;
afterEach(() => removeDir(root));

describe('report --save-records', () => {
  test('the records alone regenerate the report of the finished runs, without checkpoints', async () => {
    root = tempDir('records');
    const runs = path.join(root, 'runs');
    const finished = [0, 1].flatMap((seed) => [false, true].map((signin) => fakeRun(runs, { sparsity: 0.9, signin, seed, final: 0.8 + 0.01 * seed + (signin ? 0.005 : 0) }).dir));
    const open = fakeRun(runs, { sparsity: 0.9, signin: false, seed: 2 }).dir;
    fs.writeFileSync(path.join(finished[0], 'checkpoint.safetensors'), Buffer.alloc(1024));
    const out = path.join(root, 'report');
    const first = await writeReport(runs, out, { plots: false, saveRecords: true });
    expect(first.files).toContain(recordsDir(out));
    expect(fs.readdirSync(recordsDir(out)).sort()).toEqual(finished.map((d) => path.basename(d)).sort());
    expect(fs.readdirSync(path.join(recordsDir(out), path.basename(finished[0]))).sort()).toEqual(['config.json', 'final.json', 'metrics.jsonl']);
    expect(fs.existsSync(path.join(recordsDir(out), path.basename(open)))).toBe(false);

    // The run directories gone, the records give the same table and paired differences.
    const pairedBefore = fs.readFileSync(path.join(out, 'paired.json'), 'utf8');
    fs.rmSync(runs, { recursive: true });
    const again = await writeReport(recordsDir(out), path.join(root, 'again'), { plots: false });
    expect(again.csv).toBe(first.csv);
    expect(fs.readFileSync(path.join(root, 'again', 'paired.json'), 'utf8')).toBe(pairedBefore);
    // Paired Δ of seed s is 0.5 points by construction.
    expect(JSON.parse(pairedBefore)[0].accuracy[0].cells[0].summary.differences).toEqual([expect.closeTo(0.5, 10), expect.closeTo(0.5, 10)]);
  });

  test('regenerating into the same folder keeps the records and adds new runs', async () => {
    root = tempDir('records');
    const out = path.join(root, 'report');
    fakeRun(recordsDir(out), { sparsity: 0.95, signin: false, seed: 0, final: 0.7 });
    const runs = path.join(root, 'runs');
    fakeRun(runs, { sparsity: 0.95, signin: true, seed: 0, final: 0.72 });
    await writeReport(runs, out, { plots: false, saveRecords: true });
    const res = await writeReport(recordsDir(out), out, { plots: false, saveRecords: true });
    expect(fs.readdirSync(recordsDir(out))).toHaveLength(2);
    expect(res.tables[0].rows.map((r) => r.cells[0]?.mean)).toEqual([70, 72]);
  });

  test('options of another type are refused, naming the option, before anything is written', async () => {
    root = tempDir('records');
    const runs = path.join(root, 'runs');
    fakeRun(runs, { sparsity: 0.9, signin: false, seed: 0, final: 0.8 });
    const out = path.join(root, 'report');
    await expect(writeReport(runs, out, { saveRecords: 'yes' } as never)).rejects.toThrow(/options\.saveRecords/);
    await expect(writeReport(runs, out, { plots: 1 } as never)).rejects.toThrow(/options\.plots/);
    await expect(writeReport(runs, out, { digits: -1 })).rejects.toThrow(/options\.digits/);
    expect(fs.existsSync(out)).toBe(false);
  });

  test('a record over the records limit (a sparse 1 GiB transfer.json) is refused before it is read, naming it', () => {
    root = tempDir('records');
    const { dir } = fakeRun(path.join(root, 'runs'), { sparsity: 0.9, signin: false, seed: 0, final: 0.8 });
    const transfer = runPaths(dir).transfer;
    fs.writeFileSync(transfer, '');
    fs.truncateSync(transfer, 2 ** 30);
    const before = bytesRead();
    const e = errorOf(() => copyRunRecords([dir], path.join(root, 'report')));
    expect(bytesRead() - before).toBeLessThan(SMALL_READ_BYTES);
    expect(e).toMatchObject({ code: 'ERR_INVALID_ARG', message: `Expected a config or record file of at most 64 MiB (67108864 bytes), but it is 1024 MiB (1073741824 bytes): ${transfer}` });
  });
});
