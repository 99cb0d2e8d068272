/**
 * The help of a `--model` flag: the model registry's names and families, read when the program is
 * built (after --import, so a user's models are listed too). Commander's .choices() would refuse a
 * family member such as cifar_resnet_26, so the config schema stays the check.
 */
import { modelFamilies, modelNames } from '../models/registry';

export function modelFlagHelp(what: string): string {
  const names = modelNames().map((n) => JSON.stringify(n)).join(', ');
  const families = modelFamilies();
  return `${what} (choices: ${names}${families.length > 0 ? `, or a family member: ${families.join(', ')}` : ''})`;
}
