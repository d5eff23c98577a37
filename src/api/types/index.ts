// Every Engine API wire shape, for routes, views and the CLI alike.
export type { PathStat } from './archive.js';
export type { ApiContainerCreateBody, ApiContainerSummary, ApiEndpointSettings, ApiMountPoint, ApiPort, ApiRestartPolicy } from './containers.js';
export type { ApiImageHistoryItem, ApiImageInspect, ApiImagePruneReport, ApiImageSummary } from './images.js';
export type { ApiBindOptions, ApiMount, ApiTmpfsOptions, ApiVolumeOptions } from './mounts.js';
export type { ApiVolume } from './volumes.js';
export type { ApiBackupRequest, ApiDiff, ApiForgetRequest, ApiForgetResult, ApiKey, ApiPolicy, ApiPolicyCreate, ApiPolicyRun, ApiRepositoryAccess, ApiRestoreRequest, ApiRetention, ApiSnapshot } from './backup.js';
