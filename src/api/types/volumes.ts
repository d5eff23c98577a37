// Volume wire shapes (GET /volumes, GET /volumes/{name}). Key order follows
// docker's Go structs; the null-versus-{} rules of spec 1.3 apply.

export interface ApiVolume {
  CreatedAt: string;
  Driver: string;
  Labels: Record<string, string> | null;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: string;
  Status?: Record<string, unknown>;
  UsageData?: { RefCount: number; Size: number };
}
