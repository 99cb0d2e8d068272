import { betaSpec } from '../../../src/experiments/plots-beta';
import { accuracyVsSparsitySpec, sparsityPoints } from '../../../src/experiments/plots-sparsity';
import { perLayerFlipsSpec, renderSvg, signFlipsSpec, testAccuracySpec } from '../../../src/experiments/plots';

const order = { methods: ['Random', 'Random + Sign-In'], sparsities: ['90%', '95%'] };
const points = [0, 1].flatMap((seed) => [1, 2].flatMap((epoch) => order.methods.map((method) => ({ method, sparsity: '90%', seed, epoch, value: 50 + epoch + seed }))));

test('test-accuracy spec: mean line and ±std band per method, one column per sparsity, fixed colour order', () => {
  const spec = testAccuracySpec(points, 'cifar10 resnet', order) as Record<string, any>;
  expect(spec.$schema).toMatch(/vega-lite\/v5/);
  expect(spec.facet.column).toMatchObject({ field: 'sparsity', sort: ['90%', '95%'] });
  const [band, line] = spec.spec.layer;
  expect(band.mark).toMatchObject({ type: 'errorband', extent: 'stdev' });
  expect(line.encoding.y).toMatchObject({ aggregate: 'mean', field: 'value' });
  expect(line.encoding.color.scale.domain).toEqual(order.methods);
  expect(spec.data.values).toHaveLength(8);
});

test('sign-flip specs: rows per measure; per-layer bars keep network order', () => {
  const flips = signFlipsSpec(points.map((p) => ({ ...p, measure: 'from init' })), 't', order) as Record<string, any>;
  expect(flips.facet.row.sort).toEqual(['from init', 'from previous epoch']);
  const layers = perLayerFlipsSpec([{ method: 'Random', sparsity: '90%', seed: 0, layer: 'fc', value: 0.1 }], ['conv1', 'fc'], 't', order) as Record<string, any>;
  expect(layers.spec.encoding.x.sort).toEqual(['conv1', 'fc']);
  expect(layers.spec.encoding.xOffset.field).toBe('method');
});

test('renders to SVG without a browser or canvas', async () => {
  const svg = await renderSvg(testAccuracySpec(points, 'demo', order));
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg).toContain('demo: test accuracy');
  expect(svg).toContain('Random + Sign-In');
});

test('legends print every method label whole, so labels that differ only at their end stay apart; β names only Sign-In', async () => {
  const long = ['Random + Sign-In (signin.layers=all, signin.momentumAtReset=keep, signin.resetPeriod=5)',
    'Random + Sign-In (signin.layers=all, signin.momentumAtReset=zero, signin.resetPeriod=1)'];
  const o = { methods: long, sparsities: ['90%'] };
  const curve = long.flatMap((method) => [1, 2].map((epoch) => ({ method, sparsity: '90%', seed: 0, epoch, value: epoch })));
  const legendTexts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]).filter((t) => t.startsWith('Random'));
  const sparsity = [{ label: long[0], cells: [{ sparsity: 0.9, seeds: [0], values: [80] }] }, { label: long[1], cells: [{ sparsity: 0.9, seeds: [0], values: [81] }] }];
  for (const spec of [testAccuracySpec(curve, 't', o), signFlipsSpec(curve.map((p) => ({ ...p, measure: 'from init' })), 't', o),
    perLayerFlipsSpec(long.map((method) => ({ method, sparsity: '90%', seed: 0, layer: 'fc', value: 0.1 })), ['fc'], 't', o),
    betaSpec(curve, 't', { ...o, methods: ['Random', ...long] }), accuracyVsSparsitySpec(sparsityPoints(sparsity), 't', o)]) {
    expect(legendTexts(await renderSvg(spec))).toEqual(long);
  }
});

test('the epoch axis labels whole epochs only, short run or long', async () => {
  const xLabels = (svg: string) => {
    const axis = svg.slice(svg.indexOf("X-axis titled 'epoch'"));
    return [...axis.slice(0, axis.indexOf('>epoch<')).matchAll(/>([^<]+)<\/text>/g)].map((m) => m[1]);
  };
  const curve = (epochs: number) => Array.from({ length: epochs }, (_, i) => ({ method: 'Random + Sign-In', sparsity: '90%', seed: 0, epoch: i + 1, value: 50 + i }));
  const specs = (c: ReturnType<typeof curve>) => [testAccuracySpec(c, 't', order), signFlipsSpec(c.map((p) => ({ ...p, measure: 'from init' })), 't', order), betaSpec(c, 't', order)];
  for (const spec of specs(curve(2))) expect(xLabels(await renderSvg(spec))).toEqual(['1', '2']);
  for (const spec of specs(curve(3))) expect(xLabels(await renderSvg(spec))).toEqual(['1', '2', '3']);
  for (const spec of specs(curve(40))) {
    const labels = xLabels(await renderSvg(spec));
    expect(labels.length).toBeGreaterThan(2);
    for (const l of labels) expect(l).toMatch(/^\d+$/);
  }
});
