"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.canonicalJson = canonicalJson;
exports.nonDefaultFields = nonDefaultFields;
exports.configHash = configHash;
/**
 * Config hashing (open_lth's desc.hashname): the hash covers only the fields that differ from
 * DEFAULTS, serialized as canonical JSON (keys sorted at every level). Adding a new field with a
 * default therefore leaves every existing hash, and so every run directory, valid.
 */
const node_crypto_1 = require("node:crypto");
const schema_1 = require("./schema");
function isObj(v) {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
}
/** JSON with object keys sorted at every level; undefined members are dropped (as JSON does). */
function canonicalJson(value) {
    if (Array.isArray(value))
        return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
    if (isObj(value)) {
        const parts = Object.keys(value).sort()
            .filter((k) => value[k] !== undefined)
            .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`);
        return `{${parts.join(',')}}`;
    }
    if (typeof value === 'number' && !Number.isFinite(value))
        throw new TypeError(`canonicalJson: non-finite number ${value}`);
    return JSON.stringify(value) ?? 'null';
}
function deepEqual(a, b) {
    return canonicalJson(a) === canonicalJson(b);
}
function strip(value, defaults, path) {
    if (schema_1.HASH_EXCLUDED_PATHS.includes(path))
        return undefined;
    if (isObj(value)) {
        const out = {};
        for (const k of Object.keys(value)) {
            const d = isObj(defaults) ? defaults[k] : undefined;
            const v = strip(value[k], d, path ? `${path}.${k}` : k);
            if (v !== undefined)
                out[k] = v;
        }
        return Object.keys(out).length > 0 ? out : undefined;
    }
    if (defaults !== undefined && deepEqual(value, defaults))
        return undefined;
    return value;
}
/**
 * The part of a config that names the run: fields that differ from DEFAULTS, without the
 * execution-only fields (HASH_EXCLUDED_PATHS). Required fields are always present.
 */
function nonDefaultFields(config) {
    return strip(config, schema_1.DEFAULTS, '') ?? {};
}
/** md5 (hex) of the canonical JSON of the non-default fields. */
function configHash(config) {
    return (0, node_crypto_1.createHash)('md5').update(canonicalJson(nonDefaultFields(config))).digest('hex');
}
