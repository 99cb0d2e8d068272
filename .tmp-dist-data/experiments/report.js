"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.loadRuns = loadRuns;
exports.methodLabel = methodLabel;
exports.sparsityLabel = sparsityLabel;
exports.accuracyTables = accuracyTables;
exports.formatCell = formatCell;
exports.tableToMarkdown = tableToMarkdown;
exports.tablesToCsv = tablesToCsv;
exports.plotData = plotData;
exports.writeReport = writeReport;
/**
 * Reports from run directories, never from memory (architecture.md decision 9): the paper's
 * table (rows: method, e.g. "Random" / "Random + Sign-In"; columns: sparsity; cells: mean ± sample
 * std of the final top-1 test accuracy over seeds) as markdown and CSV, and SVG plots.
 *
 * Runs are grouped into one table per "setting": everything in the config except the seed, the
 * pruning and the Sign-In fields (so CIFAR-10 and CIFAR-100 runs in one runs dir give two tables).
 * Within a table a row is one pruning + Sign-In configuration (sparsity aside).
 */
const hash_1 = require("./hash");
const metrics_1 = require("./metrics");
const paths_1 = require("./paths");
const plots_1 = require("./plots");
const runs_1 = require("./runs");
const schema_1 = require("./schema");
/** Reads every run under runsDir: config, final.json (when finished) and metrics.jsonl. */
function loadRuns(runsDir) {
    return (0, runs_1.listRuns)(runsDir).map((r) => ({ ...r, final: (0, runs_1.readFinal)(r.dir), metrics: (0, runs_1.readMetrics)(r.dir) }));
}
const PRUNER_LABELS = {
    none: 'Dense',
    random: 'Random',
    magnitude: 'Magnitude',
    snip: 'SNIP',
    grasp: 'GraSP',
    synflow: 'SynFlow',
};
/** "Random", "Random + Sign-In", "SNIP", "Dense + Sign-In", ... */
function methodLabel(config) {
    return `${PRUNER_LABELS[config.pruning.method]}${config.signin.enabled ? ' + Sign-In' : ''}`;
}
/** "90%", "95%", "98.5%". */
function sparsityLabel(sparsity) {
    return `${Number((sparsity * 100).toFixed(2))}%`;
}
/** The fields that make a table: everything but seed, pruning.* and signin.* (non-default only). */
function settingFields(config) {
    const { seed: _seed, pruning: _p, signin: _s, ...rest } = (0, hash_1.nonDefaultFields)(config);
    return rest;
}
/** The fields that make a row: pruning (but sparsity) and Sign-In, defaults included. */
function methodFields(config) {
    const { sparsity: _sp, ...pruning } = config.pruning;
    const signin = config.signin.enabled ? config.signin : { enabled: false };
    return { pruning, signin };
}
/** Appends ' (k=v, …)' to labels that would otherwise collide, naming only the fields that differ. */
function disambiguate(items, base, fields) {
    const out = new Map();
    const groups = new Map();
    for (const it of items) {
        const b = base(it);
        groups.set(b, [...(groups.get(b) ?? []), it]);
    }
    for (const [b, group] of groups) {
        if (group.length === 1) {
            out.set(group[0], b);
            continue;
        }
        const flat = group.map((g) => (0, schema_1.flattenDotted)(fields(g)));
        const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort()
            .filter((k) => new Set(flat.map((f) => (0, hash_1.canonicalJson)(f[k] ?? null))).size > 1);
        const show = (v) => (typeof v === 'string' ? v : (0, hash_1.canonicalJson)(v ?? null));
        group.forEach((g, i) => out.set(g, keys.length ? `${b} (${keys.map((k) => `${k}=${show(flat[i][k])}`).join(', ')})` : b));
    }
    return out;
}
function groupBy(items, key) {
    const m = new Map();
    for (const it of items) {
        const k = key(it);
        m.set(k, [...(m.get(k) ?? []), it]);
    }
    return m;
}
function settingGroups(runs) {
    const groups = [...groupBy(runs, (r) => (0, hash_1.canonicalJson)(settingFields(r.config)))].map(([key, rs]) => ({ key, setting: settingFields(rs[0].config), runs: rs }));
    groups.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const titles = disambiguate(groups, (g) => `${g.runs[0].config.dataset.name} ${g.runs[0].config.model.name}`, (g) => g.setting);
    return { groups, titles };
}
const methodRank = (m) => schema_1.PRUNING_METHODS.indexOf(m);
/** The paper's tables from loaded runs: one per setting; only finished runs fill cells. */
function accuracyTables(runs) {
    const { groups, titles } = settingGroups(runs);
    return groups.map((g) => {
        const finished = g.runs.filter((r) => r.final);
        const sparsities = [...new Set(finished.map((r) => r.config.pruning.sparsity))].sort((a, b) => a - b);
        const byMethod = [...groupBy(finished, (r) => (0, hash_1.canonicalJson)(methodFields(r.config)))].map(([, rs]) => rs);
        const labels = disambiguate(byMethod, (rs) => methodLabel(rs[0].config), (rs) => methodFields(rs[0].config));
        const rows = byMethod.map((rs) => ({
            label: labels.get(rs),
            method: rs[0].config.pruning.method,
            signin: rs[0].config.signin.enabled,
            cells: sparsities.map((s) => {
                const cellRuns = rs.filter((r) => r.config.pruning.sparsity === s).sort((a, b) => a.config.seed - b.config.seed);
                if (cellRuns.length === 0)
                    return undefined;
                const values = cellRuns.map((r) => r.final.testAcc * 100);
                const st = (0, metrics_1.meanStd)(values);
                return { sparsity: s, values, seeds: cellRuns.map((r) => r.config.seed), n: st.n, mean: st.mean, std: st.std };
            }),
        }));
        rows.sort((a, b) => methodRank(a.method) - methodRank(b.method) || Number(a.signin) - Number(b.signin) || a.label.localeCompare(b.label));
        return { title: titles.get(g), setting: g.setting, sparsities, rows, unfinished: g.runs.filter((r) => !r.final).map((r) => r.name) };
    });
}
function fmt(x, digits) {
    return Number.isFinite(x) ? x.toFixed(digits) : '';
}
/** "88.25 ± 0.31"; a single seed shows the value alone; " (n=2)" marks cells with fewer seeds than the table's most. */
function formatCell(cell, maxN, digits = 2) {
    if (!cell)
        return '–';
    const body = cell.n > 1 ? `${fmt(cell.mean, digits)} ± ${fmt(cell.std, digits)}` : fmt(cell.mean, digits);
    return cell.n < maxN ? `${body} (n=${cell.n})` : body;
}
function maxSeeds(t) {
    return Math.max(0, ...t.rows.flatMap((r) => r.cells.map((c) => c?.n ?? 0)));
}
/** One table as markdown: heading, table, caption. */
function tableToMarkdown(t, digits = 2) {
    const n = maxSeeds(t);
    const header = `| Method | ${t.sparsities.map(sparsityLabel).join(' | ')} |`;
    const sep = `|---|${t.sparsities.map(() => '---:|').join('')}`;
    const rows = t.rows.map((r) => `| ${r.label} | ${r.cells.map((c) => formatCell(c, n, digits)).join(' | ')} |`);
    const caption = n > 1 ? `Top-1 test accuracy (%) after the last epoch, mean ± sample standard deviation over up to ${n} seeds.`
        : 'Top-1 test accuracy (%) after the last epoch, one seed.';
    const extra = Object.keys(t.setting).length ? `\n\nSetting (non-default fields): \`${(0, hash_1.canonicalJson)(t.setting)}\`` : '';
    const pending = t.unfinished.length ? `\n\n${t.unfinished.length} unfinished run(s) left out: ${t.unfinished.join(', ')}` : '';
    return `### ${t.title}\n\n${header}\n${sep}\n${rows.join('\n')}\n\n${caption}${extra}${pending}\n`;
}
function csvField(v) {
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
/** Long-format CSV: one line per (table, method, sparsity) cell. */
function tablesToCsv(tables, digits = 4) {
    const lines = ['table,method,sparsity,n,mean,std,seeds,values'];
    for (const t of tables) {
        for (const r of t.rows) {
            r.cells.forEach((c, i) => {
                if (!c)
                    return;
                lines.push([t.title, r.label, t.sparsities[i], c.n, fmt(c.mean, digits), fmt(c.std, digits), c.seeds.join(';'), c.values.map((v) => fmt(v, digits)).join(';')].map(csvField).join(','));
            });
        }
    }
    return `${lines.join('\n')}\n`;
}
/** Curves of one table's runs (finished runs only unless includeUnfinished). */
function plotData(table, runs, includeUnfinished = false) {
    const accuracy = [];
    const flips = [];
    const layers = [];
    const layerNames = [];
    // Runs are matched to rows by their method fields, labelled as accuracyTables labels them.
    const byFields = new Map();
    const tableRuns = runs.filter((r) => (0, hash_1.canonicalJson)(settingFields(r.config)) === (0, hash_1.canonicalJson)(table.setting) && (includeUnfinished || r.final));
    const byMethod = groupBy(tableRuns, (r) => (0, hash_1.canonicalJson)(methodFields(r.config)));
    const labels = disambiguate([...byMethod.values()], (rs) => methodLabel(rs[0].config), (rs) => methodFields(rs[0].config));
    for (const [k, rs] of byMethod)
        byFields.set(k, labels.get(rs));
    for (const r of tableRuns) {
        const method = byFields.get((0, hash_1.canonicalJson)(methodFields(r.config)));
        const sparsity = sparsityLabel(r.config.pruning.sparsity);
        const seed = r.config.seed;
        let lastFlips;
        for (const m of r.metrics) {
            if (typeof m.testAcc === 'number')
                accuracy.push({ method, sparsity, seed, epoch: m.epoch, value: m.testAcc * 100 });
            if (m.signFlips) {
                flips.push({ method, sparsity, seed, epoch: m.epoch, value: m.signFlips.fromInit, measure: 'from init' });
                flips.push({ method, sparsity, seed, epoch: m.epoch, value: m.signFlips.fromPrev, measure: 'from previous epoch' });
                lastFlips = m.signFlips;
            }
        }
        for (const [layer, value] of Object.entries(lastFlips?.perLayer ?? {})) {
            if (!layerNames.includes(layer))
                layerNames.push(layer);
            layers.push({ method, sparsity, seed, layer, value });
        }
    }
    const methods = [...table.rows.map((r) => r.label), ...[...byFields.values()].filter((l) => !table.rows.some((r) => r.label === l))];
    const sparsities = [...new Set(tableRuns.map((r) => r.config.pruning.sparsity))].sort((a, b) => a - b).map(sparsityLabel);
    return { title: table.title, order: { methods, sparsities }, accuracy, flips, layers, layerNames };
}
/** Reads runsDir, writes report.md, accuracy.csv, report.json and the SVG plots into outDir. */
async function writeReport(runsDir, outDir, options = {}) {
    const runs = loadRuns(runsDir);
    const tables = accuracyTables(runs);
    const p = (0, paths_1.reportPaths)(outDir);
    const files = [];
    const sections = [];
    for (const t of tables) {
        let section = tableToMarkdown(t, options.digits);
        if (options.plots !== false) {
            const d = plotData(t, runs, options.includeUnfinished);
            const out = [];
            if (d.accuracy.length)
                out.push([p.testAccuracyPlot(t.title), await (0, plots_1.renderSvg)((0, plots_1.testAccuracySpec)(d.accuracy, d.title, d.order))]);
            if (d.flips.length)
                out.push([p.signFlipsPlot(t.title), await (0, plots_1.renderSvg)((0, plots_1.signFlipsSpec)(d.flips, d.title, d.order))]);
            if (d.layers.length)
                out.push([p.perLayerFlipsPlot(t.title), await (0, plots_1.renderSvg)((0, plots_1.perLayerFlipsSpec)(d.layers, d.layerNames, d.title, d.order))]);
            for (const [file, svg] of out) {
                (0, runs_1.writeFileAtomic)(file, svg);
                files.push(file);
                section += `\n![${t.title}](${file.slice(outDir.length).replace(/^[/\\]/, '')})\n`;
            }
        }
        sections.push(section);
    }
    const markdown = tables.length
        ? `# Results\n\nFrom ${runs.length} run(s) in \`${runsDir}\`.\n\n${sections.join('\n')}`
        : `# Results\n\nNo runs found in \`${runsDir}\`.\n`;
    const csv = tablesToCsv(tables);
    (0, runs_1.writeFileAtomic)(p.markdown, markdown);
    (0, runs_1.writeFileAtomic)(p.csv, csv);
    (0, runs_1.writeJsonAtomic)(p.json, tables);
    files.unshift(p.markdown, p.csv, p.json);
    return { tables, markdown, csv, files };
}
