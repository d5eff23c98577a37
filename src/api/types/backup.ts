// Wire shapes of the /backup endpoints (docs/backups.md), shared by the
// routes and the CLI.

/** The X-Berth-Repository header's JSON (base64url): where the repository is and what opens it. */
export interface ApiRepositoryAccess {
  repo: string;
  password?: string;
  identity?: string;
  s3?: { endpoint?: string; region?: string; accessKeyId?: string; secretAccessKey?: string };
}

export interface ApiSnapshot {
  Id: string;
  /** RFC 3339 with nanoseconds, UTC: when the backup began reading. */
  Time: string;
  Volume: string;
  Driver: string;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  Tags: string[];
  Group: string | null;
  Parent: string | null;
  Host: string;
  Consistency: 'freeze' | 'stop' | 'none';
  FreezeMs: number;
  /** Apparent bytes of file data. */
  Size: number;
  Files: number;
  Dirs: number;
  BytesAdded: number;
  DurationMs: number;
}

export interface ApiBackupRequest {
  Volumes?: string[];
  /** Label filters: "key" or "key=value", all must match. */
  Labels?: string[];
  Tags?: string[];
  Consistency?: 'freeze' | 'stop' | 'none';
}

export interface ApiRestoreRequest {
  To?: string;
  Replace?: string;
}

export interface ApiRetention {
  KeepLast?: number;
  KeepHourly?: number;
  KeepDaily?: number;
  KeepWeekly?: number;
  KeepMonthly?: number;
  KeepYearly?: number;
  Within?: string;
}

export interface ApiForgetRequest {
  Retention?: ApiRetention;
  Ids?: string[];
  Volume?: string;
  DryRun?: boolean;
  Prune?: boolean;
}

export interface ApiForgetResult {
  Plans: Array<{ Volume: string; Keep: Array<{ Id: string; Reasons: string[] }>; Remove: string[] }>;
  Prune?: Record<string, number>;
  DryRun: boolean;
}

export interface ApiDiff {
  From: string;
  To: string;
  Added: number;
  Removed: number;
  Changed: number;
  /** Paths are base64 when they are not UTF-8 ("PathBase64"). */
  Entries: Array<{ Path: string; PathBase64?: string; Change: 'added' | 'removed' | 'changed'; Type: string; Fields?: string[] }>;
}

export interface ApiKey {
  Id: string;
  Kind: 'full' | 'write-only';
  WrappedFor: string;
  Created: string;
  Host: string;
  Current: boolean;
}

export interface ApiPolicy {
  Id: string;
  Name: string;
  Volumes?: string[];
  Labels?: string[];
  Schedule: string;
  JitterMs: number;
  Retention: ApiRetention;
  Repository: string;
  Consistency: 'freeze' | 'stop' | 'none';
  Tags: string[];
  Created: string;
  /** When it runs next (RFC 3339), null while it runs. */
  NextRun: string | null;
  LastRun: ApiPolicyRun | null;
  LastSuccess: ApiPolicyRun | null;
}

export interface ApiPolicyRun {
  Started: string;
  DurationMs: number;
  Snapshots: string[];
  BytesAdded: number;
  FreezeMs: number | null;
  Error: string | null;
}

export interface ApiPolicyCreate {
  Name: string;
  Volumes?: string[];
  Labels?: string[];
  Schedule: string;
  Jitter?: string;
  Retention?: ApiRetention;
  Consistency?: 'freeze' | 'stop' | 'none';
  Tags?: string[];
  /** An absolute path to a root-owned 0600 file holding the repository credentials; else the header's credentials are kept by berthd. */
  CredentialsFile?: string;
}
