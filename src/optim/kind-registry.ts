/** The registries optimizers read their entry kinds from (optim/update-kind.ts for SGD, optim/adamw-kind.ts for AdamW). */
import { InvalidArgumentError } from '../errors';

/** A registry of kinds by key (SGD's update kinds, AdamW's kinds): registration order kept; a key is registered once; 'params' is taken. */
export function kindRegistry<K extends { readonly key: string }>(): { register(kind: K): void; list(): K[] } {
  const kinds = new Map<string, K>();
  return {
    register(kind: K): void {
      if (typeof kind?.key !== 'string' || !/^[a-z][A-Za-z0-9]*$/.test(kind.key) || kind.key === 'params') {
        throw new InvalidArgumentError('kind.key', "a camelCase name other than 'params'", kind?.key);
      }
      if (kinds.has(kind.key)) throw new InvalidArgumentError('kind.key', 'a key not already registered', kind.key);
      kinds.set(kind.key, kind);
    },
    list: () => [...kinds.values()],
  };
}
