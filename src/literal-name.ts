/**
 * For a registry lookup `f<N extends string>(name: LiteralName<N, Known>)`: a string literal must
 * be one of `Known`, so a typo such as 'rnadom' fails to compile, while a name known only at run
 * time (type `string`, e.g. from a config file) still compiles and is checked by the registry.
 */
export type LiteralName<N extends string, Known extends string> = N & (string extends N ? unknown : Known);
