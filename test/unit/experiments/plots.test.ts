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
