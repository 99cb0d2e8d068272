/**
 * Public entry points that are unsafe by design, not gaps: the fuzz still calls them and still
 * requires every error to be coded (the form of the call is checked), but a signal or a hang
 * inside them is not a failure. Each entry says why; the README does not mention them.
 */
export const API_UNSAFE_BY_DESIGN: ReadonlyMap<string, string> = new Map([
  ['unsafeCall', 'the raw door to any ATen operator by name: its arguments reach libtorch 1.13 unchecked, and some inputs '
    + 'crash or hang libtorch itself (aten::_stack on an empty list); checking them would make it the checked API'],
  ['unsafeCallInPlace', 'unsafeCall for in-place operators, unchecked for the same reason'],
]);
