// Usage and flag errors need no daemon: the texts and exit codes the docker
// CLI 28.2.2 printed for the same command lines (docker → berth).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const BERTH = join(resolve(import.meta.dirname, '..', '..', '..'), 'src', 'cli', 'main.js');

const CASES: Array<{ args: string[]; code: number; stdout: string; stderr: string }> = [
  {
    "args": [
      "run"
    ],
    "code": 1,
    "stdout": "",
    "stderr": "berth: 'berth run' requires at least 1 argument\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nSee 'berth run --help' for more information\n"
  },
  {
    "args": [
      "ps",
      "x"
    ],
    "code": 1,
    "stdout": "",
    "stderr": "berth: 'berth ps' accepts no arguments\n\nUsage:  berth ps [OPTIONS]\n\nRun 'berth ps --help' for more information\n"
  },
  {
    "args": [
      "images",
      "a",
      "b"
    ],
    "code": 1,
    "stdout": "",
    "stderr": "berth: 'berth images' requires at most 1 argument\n\nUsage:  berth images [OPTIONS] [REPOSITORY[:TAG]]\n\nSRun 'berth images --help' for more information\n"
  },
  {
    "args": [
      "logs"
    ],
    "code": 1,
    "stdout": "",
    "stderr": "berth: 'berth logs' requires 1 argument\n\nUsage:  berth logs [OPTIONS] CONTAINER\n\nRun 'berth logs --help' for more information\n"
  },
  {
    "args": [
      "cp",
      "a"
    ],
    "code": 1,
    "stdout": "",
    "stderr": "berth: 'berth cp' requires 2 arguments\n\nUsage:  berth cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH\n\nRun 'berth cp --help' for more information\n"
  },
  {
    "args": [
      "container",
      "ls",
      "x"
    ],
    "code": 1,
    "stdout": "",
    "stderr": "berth: 'berth container ls' accepts no arguments\n\nUsage:  berth container ls [OPTIONS]\n\nRun 'berth container ls --help' for more information\n"
  },
  {
    "args": [
      "run",
      "--bogus",
      "busybox"
    ],
    "code": 125,
    "stdout": "",
    "stderr": "unknown flag: --bogus\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information\n"
  },
  {
    "args": [
      "run",
      "-Z",
      "busybox"
    ],
    "code": 125,
    "stdout": "",
    "stderr": "unknown shorthand flag: 'Z' in -Z\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information\n"
  },
  {
    "args": [
      "run",
      "--name"
    ],
    "code": 125,
    "stdout": "",
    "stderr": "flag needs an argument: --name\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information\n"
  },
  {
    "args": [
      "run",
      "-e"
    ],
    "code": 125,
    "stdout": "",
    "stderr": "flag needs an argument: 'e' in -e\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information\n"
  },
  {
    "args": [
      "stop",
      "-t",
      "x",
      "c"
    ],
    "code": 125,
    "stdout": "",
    "stderr": "invalid argument \"x\" for \"-t, --timeout\" flag: strconv.ParseInt: parsing \"x\": invalid syntax\n\nUsage:  berth stop [OPTIONS] CONTAINER [CONTAINER...]\n\nRun 'berth stop --help' for more information\n"
  },
  {
    "args": [
      "run",
      "-e",
      "=x",
      "busybox"
    ],
    "code": 125,
    "stdout": "",
    "stderr": "invalid argument \"=x\" for \"-e, --env\" flag: invalid environment variable: =x\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information\n"
  },
  {
    "args": [
      "run",
      "--mount",
      "type=foo,bar",
      "busybox"
    ],
    "code": 125,
    "stdout": "",
    "stderr": "invalid argument \"type=foo,bar\" for \"--mount\" flag: invalid field 'bar' must be a key=value pair\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information\n"
  },
  {
    "args": [
      "run",
      "-v",
      "",
      "busybox"
    ],
    "code": 125,
    "stdout": "",
    "stderr": "berth: invalid empty volume spec\n\nRun 'berth run --help' for more information\n"
  },
  {
    "args": [
      "ps",
      "-f",
      "bad"
    ],
    "code": 125,
    "stdout": "",
    "stderr": "invalid argument \"bad\" for \"-f, --filter\" flag: bad format of filter (expected name=value)\n\nUsage:  berth ps [OPTIONS]\n\nRun 'berth ps --help' for more information\n"
  },
  {
    "args": [
      "run",
      "--rm",
      "--restart",
      "always",
      "busybox"
    ],
    "code": 125,
    "stdout": "",
    "stderr": "berth: conflicting options: cannot specify both --restart and --rm\n\nRun 'berth run --help' for more information\n"
  },
  {
    "args": [
      "create",
      "--env-file",
      "/nonexist",
      "busybox"
    ],
    "code": 125,
    "stdout": "",
    "stderr": "berth: open /nonexist: no such file or directory\n\nRun 'berth create --help' for more information\n"
  },
  {
    "args": [
      "run",
      "-d",
      "-a",
      "stdout",
      "busybox"
    ],
    "code": 1,
    "stdout": "",
    "stderr": "conflicting options: cannot specify both --attach and --detach\n"
  },
  {
    "args": [
      "run",
      "--pull",
      "bogus",
      "busybox"
    ],
    "code": 125,
    "stdout": "",
    "stderr": "berth: invalid pull option: 'bogus': must be one of \"always\", \"missing\" or \"never\"\n\nRun 'berth run --help' for more information\n"
  },
  {
    "args": [
      "inspect",
      "--type",
      "bogus",
      "x"
    ],
    "code": 1,
    "stdout": "",
    "stderr": "unknown type: \"bogus\": must be one of \"config\", \"container\", \"image\", \"network\", \"node\", \"plugin\", \"secret\", \"service\", \"task\", \"volume\"\n"
  },
  {
    "args": [
      "cp",
      "a",
      "b"
    ],
    "code": 1,
    "stdout": "",
    "stderr": "must specify at least one container source\n"
  },
  {
    "args": [
      "cp",
      "c1:a",
      "c2:b"
    ],
    "code": 1,
    "stdout": "",
    "stderr": "copying between containers is not supported\n"
  },
  {
    "args": [
      "start",
      "-a",
      "a",
      "b"
    ],
    "code": 1,
    "stdout": "",
    "stderr": "you cannot start and attach multiple containers at once\n"
  },
  {
    "args": [
      "run",
      "Bad:Name"
    ],
    "code": 125,
    "stdout": "",
    "stderr": "berth: invalid reference format: repository name (library/Bad) must be lowercase\n\nRun 'berth run --help' for more information\n"
  },
  {
    "args": [
      "create",
      "Bad:Name"
    ],
    "code": 1,
    "stdout": "",
    "stderr": "invalid reference format: repository name (library/Bad) must be lowercase\n"
  },
  // volume and system commands, since they are declared like the others (pflag errors, ExactArgs wording)
  {
    "args": [
      "volume",
      "update"
    ],
    "code": 1,
    "stdout": "",
    "stderr": "berth: 'berth volume update' requires 1 argument\n\nUsage:  berth volume update [OPTIONS] [VOLUME]\n\nRun 'berth volume update --help' for more information\n"
  },
  {
    "args": [
      "volume",
      "create",
      "a",
      "b"
    ],
    "code": 1,
    "stdout": "",
    "stderr": "berth: 'berth volume create' requires at most 1 argument\n\nUsage:  berth volume create [OPTIONS] [VOLUME]\n\nSRun 'berth volume create --help' for more information\n"
  },
  {
    "args": [
      "volume",
      "ls",
      "-x"
    ],
    "code": 125,
    "stdout": "",
    "stderr": "unknown shorthand flag: 'x' in -x\n\nUsage:  berth volume ls [OPTIONS]\n\nRun 'berth volume ls --help' for more information\n"
  },
  {
    "args": [
      "volume",
      "ls",
      "--format"
    ],
    "code": 125,
    "stdout": "",
    "stderr": "flag needs an argument: --format\n\nUsage:  berth volume ls [OPTIONS]\n\nRun 'berth volume ls --help' for more information\n"
  },
  {
    "args": [
      "volume",
      "ls",
      "-q=maybe"
    ],
    "code": 125,
    "stdout": "",
    "stderr": "invalid argument \"maybe\" for \"-q, --quiet\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax\n\nUsage:  berth volume ls [OPTIONS]\n\nRun 'berth volume ls --help' for more information\n"
  },
  {
    "args": [
      "volume",
      "inspect"
    ],
    "code": 1,
    "stdout": "",
    "stderr": "berth: 'berth volume inspect' requires at least 1 argument\n\nUsage:  berth volume inspect [OPTIONS] VOLUME [VOLUME...]\n\nSee 'berth volume inspect --help' for more information\n"
  },
  {
    "args": [
      "volume",
      "prune",
      "x"
    ],
    "code": 1,
    "stdout": "",
    "stderr": "berth: 'berth volume prune' accepts no arguments\n\nUsage:  berth volume prune [OPTIONS]\n\nRun 'berth volume prune --help' for more information\n"
  },
  {
    "args": [
      "info",
      "-z"
    ],
    "code": 125,
    "stdout": "",
    "stderr": "unknown shorthand flag: 'z' in -z\n\nUsage:  berth info [OPTIONS]\n\nRun 'berth info --help' for more information\n"
  },
  {
    "args": [
      "version",
      "x"
    ],
    "code": 1,
    "stdout": "",
    "stderr": "berth: 'berth version' accepts no arguments\n\nUsage:  berth version [OPTIONS]\n\nRun 'berth version --help' for more information\n"
  },
  {
    "args": [
      "system",
      "df",
      "--bogus"
    ],
    "code": 125,
    "stdout": "",
    "stderr": "unknown flag: --bogus\n\nUsage:  berth system df [OPTIONS]\n\nRun 'berth system df --help' for more information\n"
  }
];

for (const c of CASES) {
  test(`berth ${c.args.map((a) => (a === '' ? "''" : a)).join(' ')}`, () => {
    // `node --`: Node 20 would otherwise take a later --env-file for itself.
    const r = spawnSync(process.execPath, ['--', BERTH, ...c.args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/root', BERTH_HOST: 'unix:///nonexistent/berth-test.sock' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    assert.equal(r.stderr, c.stderr);
    assert.equal(r.stdout, c.stdout);
    assert.equal(r.status, c.code);
  });
}
