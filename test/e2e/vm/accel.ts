// TCG unless real hardware virtualisation is there: /dev/kvm alone is not
// enough (on these machines it is a software hypervisor that cannot run a
// stock guest kernel), kvm_intel or kvm_amd must be loaded.
import { accessSync, constants, readFileSync } from 'node:fs';

export interface Accelerator {
  name: 'kvm' | 'tcg';
  args: string[];
}

function hardwareKvmLoaded(): boolean {
  try {
    const modules = readFileSync('/proc/modules', 'utf8');
    if (!/^kvm_(intel|amd) /m.test(modules)) return false;
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export function chooseAccelerator(): Accelerator {
  if (process.env.E2E_ACCEL === 'tcg' || !hardwareKvmLoaded()) {
    return { name: 'tcg', args: ['-accel', 'tcg', '-cpu', 'max'] };
  }
  return { name: 'kvm', args: ['-accel', 'kvm', '-cpu', 'host'] };
}
