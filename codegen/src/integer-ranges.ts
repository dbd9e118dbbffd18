// Value ranges of the fixed-width D-Bus integer types, exact as bigint. Used
// to check YAML defaults and to spell maxint/minint in generated code.
export const INTEGER_RANGES = {
  byte: [0n, 255n],
  int16: [-(2n ** 15n), 2n ** 15n - 1n],
  uint16: [0n, 2n ** 16n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
} as const satisfies Record<string, readonly [bigint, bigint]>;
