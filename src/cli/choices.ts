/**
 * Commander's .choices() with a "did you mean": a refused value names the choices it probably
 * meant, as the config schema and UnknownNameError do (src/suggest.ts). The help still lists the
 * choices, and commander still words the refusal ("argument 'x' is invalid. Allowed choices are ...").
 */
import { InvalidArgumentError as CommanderArgumentError, type Argument, type Option } from 'commander';
import { didYouMean, suggest } from '../suggest';

/** `target` (a flag or a command argument) taking only `values`. */
export function choices<T extends Option | Argument>(target: T, values: readonly string[]): T {
  target.choices(values);
  // Commander's own parser, after the check: a variadic value is still collected its way.
  const collect = target.parseArg!;
  target.argParser((arg: string, previous: unknown) => {
    if (!values.includes(arg)) throw new CommanderArgumentError(`Allowed choices are ${values.join(', ')}${didYouMean(suggest(arg, values))}.`);
    return collect(arg, previous);
  });
  return target;
}
