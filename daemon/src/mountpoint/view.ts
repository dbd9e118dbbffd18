// What a mount point shows to the outside world (the D-Bus properties and
// the Completion signal), kept behind an interface so the state machine does
// not depend on D-Bus and its tests can record what it reported.
export interface MountPointView {
  setActive(active: boolean): void;
  setExitCode(code: number): void;
  setMedium(imageUrl: string, writeProtected: boolean): void;
  setRemainingInactivityTimeout(seconds: number): void;
  setIo(readIo: bigint, writeIo: bigint): void;
  completion(errno: number): void;
}
