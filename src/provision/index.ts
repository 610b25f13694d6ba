export { linkTree } from './link-tree.js';
export type { LinkMethod, LinkStats, LinkTreeOptions } from './link-tree.js';
export { compareLockfiles, installedFromLockfile, LOCKFILES, readLockfiles } from './lockfile.js';
export { findWritesThroughLinks, isDependencyInstall, isStagingName, provisionDependencies, stagingPathFor } from './provision.js';
export type { ProvisionMode, ProvisionRequest, ProvisionResult } from './provision.js';
export { copyDoesNotFit, freeBytes, measureTree } from './disk.js';
export type { CopySpace, TreeMeasure } from './disk.js';
