// Keys that appear in the upstream phosphor-dbus-interfaces tree and that
// sdbus++ silently ignores (it drops every key it does not know). Anywhere
// else an unknown key is an error, because it is almost always a typo; these
// exact ones are tolerated with a warning so the upstream corpus loads, and
// are read as the key they were obviously meant to be.

/** context (as used in messages) -> misspelt key -> intended key */
export const TOLERATED_MISSPELT_KEYS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  // xyz/openbmc_project/Configuration/USBPort.interface.yaml
  interface: { Description: 'description' },
  // com/ibm/Dump/Entry/Resource.interface.yaml
  'enumeration value': { descVSPtion: 'description' },
};
