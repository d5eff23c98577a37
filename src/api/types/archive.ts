// The X-Docker-Container-Path-Stat header's JSON (HEAD/GET /containers/{id}/archive).

export interface PathStat {
  name: string;
  size: number;
  /** Go os.FileMode bits. */
  mode: number;
  mtime: string;
  linkTarget: string;
}
