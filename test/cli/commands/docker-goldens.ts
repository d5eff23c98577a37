// Captured from the real docker CLI 28.2.2 talking to a recording fake daemon
// (DOCKER_HOST=unix://...): what it sent and what it printed (TZ=UTC).

/** `now` (unix seconds) when the ps/images outputs were captured. */
export const CAPTURED_AT = 1795820177;

export const PS_FIXTURE = [
  {
    "Id": "8dfafdbc3a40aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "Names": [
      "/boring_feynman"
    ],
    "Image": "busybox",
    "ImageID": "sha256:1234567890ab1234567890ab1234567890ab1234567890ab1234567890abcdef",
    "Command": "sh -c 'echo hello world; sleep 1000'",
    "Created": 1795819877,
    "Ports": [],
    "Labels": {
      "com.example": "x",
      "b": "y"
    },
    "State": "running",
    "Status": "Up 5 minutes",
    "HostConfig": {
      "NetworkMode": "default"
    },
    "NetworkSettings": {
      "Networks": {
        "bridge": {}
      }
    },
    "Mounts": [
      {
        "Type": "volume",
        "Name": "myvolumewithaverylongname",
        "Source": "/var/lib/x",
        "Destination": "/data",
        "Driver": "local",
        "Mode": "z",
        "RW": true,
        "Propagation": ""
      },
      {
        "Type": "bind",
        "Source": "/tmp/h",
        "Destination": "/h",
        "Mode": "",
        "RW": true,
        "Propagation": "rprivate"
      }
    ],
    "SizeRw": 12345,
    "SizeRootFs": 4567890
  },
  {
    "Id": "9dfafdbc3a40bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    "Names": [
      "/other/link",
      "/x2"
    ],
    "Image": "sha256:1234567890ab1234567890ab1234567890ab1234567890ab1234567890abcdef",
    "ImageID": "sha256:1234567890ab1234567890ab1234567890ab1234567890ab1234567890abcdef",
    "Command": "echo héllo wörld ünïcode ok",
    "Created": 1795560877,
    "Ports": [
      {
        "PrivatePort": 80,
        "Type": "tcp"
      },
      {
        "PrivatePort": 81,
        "Type": "tcp"
      },
      {
        "PrivatePort": 82,
        "Type": "tcp"
      },
      {
        "PrivatePort": 53,
        "Type": "udp"
      },
      {
        "IP": "0.0.0.0",
        "PrivatePort": 443,
        "PublicPort": 8443,
        "Type": "tcp"
      },
      {
        "IP": "::",
        "PrivatePort": 443,
        "PublicPort": 8443,
        "Type": "tcp"
      },
      {
        "IP": "0.0.0.0",
        "PrivatePort": 9000,
        "PublicPort": 9000,
        "Type": "tcp"
      }
    ],
    "Labels": {},
    "State": "exited",
    "Status": "Exited (0) 3 days ago",
    "HostConfig": {
      "NetworkMode": "none"
    },
    "NetworkSettings": {
      "Networks": {}
    },
    "Mounts": []
  },
  {
    "Id": "adfafdbc3a40",
    "Names": [
      "/c3"
    ],
    "Image": "busybox@sha256:1111111111111111111111111111111111111111111111111111111111111111",
    "ImageID": "sha256:ffff",
    "Command": "",
    "Created": 1795820087,
    "Ports": null,
    "Labels": null,
    "State": "created",
    "Status": "Created",
    "Mounts": null
  },
  {
    "Id": "bdfafdbc3a40",
    "Names": [
      "/c4"
    ],
    "Image": "localhost:5000/foo/bar:v1",
    "ImageID": "sha256:eeee",
    "Command": "日本語のコマンドはとても長いですね",
    "Created": 1795812877,
    "State": "created",
    "Status": "Created"
  }
];

export const IMAGES_FIXTURE = [
  {
    "Id": "sha256:aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111",
    "ParentId": "",
    "RepoTags": [
      "busybox:latest",
      "busybox:1.36"
    ],
    "RepoDigests": [
      "busybox@sha256:2222222222222222222222222222222222222222222222222222222222222222"
    ],
    "Created": 1795812877,
    "Size": 4261550,
    "SharedSize": -1,
    "Labels": null,
    "Containers": -1
  },
  {
    "Id": "sha256:bbbbbbbbbbbb2222222222222222222222222222222222222222222222222222",
    "ParentId": "",
    "RepoTags": [],
    "RepoDigests": [],
    "Created": 1792364177,
    "Size": 123,
    "SharedSize": -1,
    "Labels": {
      "a": "b"
    },
    "Containers": 2
  },
  {
    "Id": "sha256:cccccccccccc3333333333333333333333333333333333333333333333333333",
    "ParentId": "",
    "RepoTags": [
      "<none>:<none>"
    ],
    "RepoDigests": [
      "<none>@<none>"
    ],
    "Created": 1726700177,
    "Size": 1000000000,
    "SharedSize": 100,
    "Labels": null,
    "Containers": 0
  },
  {
    "Id": "sha256:dddddddddddd3333333333333333333333333333333333333333333333333333",
    "ParentId": "",
    "RepoTags": null,
    "RepoDigests": [
      "foo/bar@sha256:3333333333333333333333333333333333333333333333333333333333333333"
    ],
    "Created": 1794092177,
    "Size": 999999,
    "Containers": 1
  }
];

/** `docker <args>` → stdout, for the fixtures above. */
export const LIST_OUTPUTS: Array<{ args: string; out: string }> = [
  {
    "args": "ps -a",
    "out": "CONTAINER ID   IMAGE                       COMMAND                  CREATED              STATUS                  PORTS                                                                                  NAMES\n8dfafdbc3a40   busybox                     \"sh -c 'echo hello w…\"   5 minutes ago        Up 5 minutes                                                                                                   boring_feynman\n9dfafdbc3a40   1234567890ab                \"echo héllo wörld ün…\"   3 days ago           Exited (0) 3 days ago   53/udp, 80-82/tcp, 0.0.0.0:9000->9000/tcp, 0.0.0.0:8443->443/tcp, [::]:8443->443/tcp   x2\nadfafdbc3a40   busybox                     \"\"                       About a minute ago   Created                                                                                                        c3\nbdfafdbc3a40   localhost:5000/foo/bar:v1   \"日本語のコマンドは…\"    2 hours ago          Created                                                                                                        c4\n"
  },
  {
    "args": "ps -a --no-trunc",
    "out": "CONTAINER ID                                                       IMAGE                                                                             COMMAND                                  CREATED              STATUS                  PORTS                                                                                  NAMES\n8dfafdbc3a40aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa   busybox                                                                           \"sh -c 'echo hello world; sleep 1000'\"   5 minutes ago        Up 5 minutes                                                                                                   boring_feynman\n9dfafdbc3a40bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb   sha256:1234567890ab1234567890ab1234567890ab1234567890ab1234567890abcdef           \"echo héllo wörld ünïcode ok\"            3 days ago           Exited (0) 3 days ago   53/udp, 80-82/tcp, 0.0.0.0:9000->9000/tcp, 0.0.0.0:8443->443/tcp, [::]:8443->443/tcp   other/link,x2\nadfafdbc3a40                                                       busybox@sha256:1111111111111111111111111111111111111111111111111111111111111111   \"\"                                       About a minute ago   Created                                                                                                        c3\nbdfafdbc3a40                                                       localhost:5000/foo/bar:v1                                                         \"日本語のコマンドはとても長いですね\"     2 hours ago          Created                                                                                                        c4\n"
  },
  {
    "args": "ps -a -s",
    "out": "CONTAINER ID   IMAGE                       COMMAND                  CREATED              STATUS                  PORTS                                                                                  NAMES            SIZE\n8dfafdbc3a40   busybox                     \"sh -c 'echo hello w…\"   5 minutes ago        Up 5 minutes                                                                                                   boring_feynman   12.3kB (virtual 4.57MB)\n9dfafdbc3a40   1234567890ab                \"echo héllo wörld ün…\"   3 days ago           Exited (0) 3 days ago   53/udp, 80-82/tcp, 0.0.0.0:9000->9000/tcp, 0.0.0.0:8443->443/tcp, [::]:8443->443/tcp   x2               0B\nadfafdbc3a40   busybox                     \"\"                       About a minute ago   Created                                                                                                        c3               0B\nbdfafdbc3a40   localhost:5000/foo/bar:v1   \"日本語のコマンドは…\"    2 hours ago          Created                                                                                                        c4               0B\n"
  },
  {
    "args": "ps -a -q",
    "out": "8dfafdbc3a40\n9dfafdbc3a40\nadfafdbc3a40\nbdfafdbc3a40\n"
  },
  {
    "args": "ps -a --format json",
    "out": "{\"Command\":\"\\\"sh -c 'echo hello w…\\\"\",\"CreatedAt\":\"2026-11-27 22:51:17 +0000 UTC\",\"ID\":\"8dfafdbc3a40\",\"Image\":\"busybox\",\"Labels\":\"b=y,com.example=x\",\"LocalVolumes\":\"1\",\"Mounts\":\"myvolumewithav…,/tmp/h\",\"Names\":\"boring_feynman\",\"Networks\":\"bridge\",\"Platform\":null,\"Ports\":\"\",\"RunningFor\":\"5 minutes ago\",\"Size\":\"12.3kB (virtual 4.57MB)\",\"State\":\"running\",\"Status\":\"Up 5 minutes\"}\n{\"Command\":\"\\\"echo héllo wörld ün…\\\"\",\"CreatedAt\":\"2026-11-24 22:54:37 +0000 UTC\",\"ID\":\"9dfafdbc3a40\",\"Image\":\"1234567890ab\",\"Labels\":\"\",\"LocalVolumes\":\"0\",\"Mounts\":\"\",\"Names\":\"x2\",\"Networks\":\"\",\"Platform\":null,\"Ports\":\"53/udp, 80-82/tcp, 0.0.0.0:9000-\\u003e9000/tcp, 0.0.0.0:8443-\\u003e443/tcp, [::]:8443-\\u003e443/tcp\",\"RunningFor\":\"3 days ago\",\"Size\":\"0B\",\"State\":\"exited\",\"Status\":\"Exited (0) 3 days ago\"}\n{\"Command\":\"\\\"\\\"\",\"CreatedAt\":\"2026-11-27 22:54:47 +0000 UTC\",\"ID\":\"adfafdbc3a40\",\"Image\":\"busybox\",\"Labels\":\"\",\"LocalVolumes\":\"0\",\"Mounts\":\"\",\"Names\":\"c3\",\"Networks\":\"\",\"Platform\":null,\"Ports\":\"\",\"RunningFor\":\"About a minute ago\",\"Size\":\"0B\",\"State\":\"created\",\"Status\":\"Created\"}\n{\"Command\":\"\\\"日本語のコマンドは…\\\"\",\"CreatedAt\":\"2026-11-27 20:54:37 +0000 UTC\",\"ID\":\"bdfafdbc3a40\",\"Image\":\"localhost:5000/foo/bar:v1\",\"Labels\":\"\",\"LocalVolumes\":\"0\",\"Mounts\":\"\",\"Names\":\"c4\",\"Networks\":\"\",\"Platform\":null,\"Ports\":\"\",\"RunningFor\":\"2 hours ago\",\"Size\":\"0B\",\"State\":\"created\",\"Status\":\"Created\"}\n"
  },
  {
    "args": "ps -a --format {{.ID}}|{{.Image}}|{{.Command}}|{{.CreatedAt}}|{{.RunningFor}}|{{.Ports}}|{{.State}}|{{.Status}}|{{.Size}}|{{.Names}}|{{.Labels}}|{{.Label \"b\"}}|{{.Mounts}}|{{.Networks}}|{{.LocalVolumes}}",
    "out": "8dfafdbc3a40|busybox|\"sh -c 'echo hello w…\"|2026-11-27 22:51:17 +0000 UTC|5 minutes ago||running|Up 5 minutes|12.3kB (virtual 4.57MB)|boring_feynman|b=y,com.example=x|y|myvolumewithav…,/tmp/h|bridge|1\n9dfafdbc3a40|1234567890ab|\"echo héllo wörld ün…\"|2026-11-24 22:54:37 +0000 UTC|3 days ago|53/udp, 80-82/tcp, 0.0.0.0:9000->9000/tcp, 0.0.0.0:8443->443/tcp, [::]:8443->443/tcp|exited|Exited (0) 3 days ago|0B|x2|||||0\nadfafdbc3a40|busybox|\"\"|2026-11-27 22:54:47 +0000 UTC|About a minute ago||created|Created|0B|c3|||||0\nbdfafdbc3a40|localhost:5000/foo/bar:v1|\"日本語のコマンドは…\"|2026-11-27 20:54:37 +0000 UTC|2 hours ago||created|Created|0B|c4|||||0\n"
  },
  {
    "args": "ps -a --format table {{.Names}}\\t{{.Mounts}}\\t{{.Label \"com.example\"}}",
    "out": "NAMES            MOUNTS                   example\nboring_feynman   myvolumewithav…,/tmp/h   x\nx2                                        \nc3                                        \nc4                                        \n"
  },
  {
    "args": "images",
    "out": "REPOSITORY   TAG       IMAGE ID       CREATED       SIZE\nbusybox      latest    aaaaaaaaaaaa   2 hours ago   4.26MB\nbusybox      1.36      aaaaaaaaaaaa   2 hours ago   4.26MB\n<none>       <none>    bbbbbbbbbbbb   5 weeks ago   123B\n<none>       <none>    cccccccccccc   2 years ago   1GB\nfoo/bar      <none>    dddddddddddd   2 weeks ago   1e+03kB\n"
  },
  {
    "args": "images --digests",
    "out": "REPOSITORY   TAG       DIGEST                                                                    IMAGE ID       CREATED       SIZE\nbusybox      latest    sha256:2222222222222222222222222222222222222222222222222222222222222222   aaaaaaaaaaaa   2 hours ago   4.26MB\nbusybox      1.36      sha256:2222222222222222222222222222222222222222222222222222222222222222   aaaaaaaaaaaa   2 hours ago   4.26MB\n<none>       <none>    <none>                                                                    bbbbbbbbbbbb   5 weeks ago   123B\n<none>       <none>    <none>                                                                    cccccccccccc   2 years ago   1GB\nfoo/bar      <none>    sha256:3333333333333333333333333333333333333333333333333333333333333333   dddddddddddd   2 weeks ago   1e+03kB\n"
  },
  {
    "args": "images --no-trunc",
    "out": "REPOSITORY   TAG       IMAGE ID                                                                  CREATED       SIZE\nbusybox      latest    sha256:aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111   2 hours ago   4.26MB\nbusybox      1.36      sha256:aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111   2 hours ago   4.26MB\n<none>       <none>    sha256:bbbbbbbbbbbb2222222222222222222222222222222222222222222222222222   5 weeks ago   123B\n<none>       <none>    sha256:cccccccccccc3333333333333333333333333333333333333333333333333333   2 years ago   1GB\nfoo/bar      <none>    sha256:dddddddddddd3333333333333333333333333333333333333333333333333333   2 weeks ago   1e+03kB\n"
  },
  {
    "args": "images -q",
    "out": "aaaaaaaaaaaa\naaaaaaaaaaaa\nbbbbbbbbbbbb\ncccccccccccc\ndddddddddddd\n"
  },
  {
    "args": "images --format json",
    "out": "{\"Containers\":\"N/A\",\"CreatedAt\":\"2026-11-27 20:54:37 +0000 UTC\",\"CreatedSince\":\"2 hours ago\",\"Digest\":\"\\u003cnone\\u003e\",\"ID\":\"aaaaaaaaaaaa\",\"Repository\":\"busybox\",\"SharedSize\":\"N/A\",\"Size\":\"4.26MB\",\"Tag\":\"latest\",\"UniqueSize\":\"N/A\",\"VirtualSize\":\"4.262MB\"}\n{\"Containers\":\"N/A\",\"CreatedAt\":\"2026-11-27 20:54:37 +0000 UTC\",\"CreatedSince\":\"2 hours ago\",\"Digest\":\"\\u003cnone\\u003e\",\"ID\":\"aaaaaaaaaaaa\",\"Repository\":\"busybox\",\"SharedSize\":\"N/A\",\"Size\":\"4.26MB\",\"Tag\":\"1.36\",\"UniqueSize\":\"N/A\",\"VirtualSize\":\"4.262MB\"}\n{\"Containers\":\"2\",\"CreatedAt\":\"2026-10-18 22:56:17 +0000 UTC\",\"CreatedSince\":\"5 weeks ago\",\"Digest\":\"\\u003cnone\\u003e\",\"ID\":\"bbbbbbbbbbbb\",\"Repository\":\"\\u003cnone\\u003e\",\"SharedSize\":\"N/A\",\"Size\":\"123B\",\"Tag\":\"\\u003cnone\\u003e\",\"UniqueSize\":\"N/A\",\"VirtualSize\":\"123B\"}\n{\"Containers\":\"0\",\"CreatedAt\":\"2024-09-18 22:56:17 +0000 UTC\",\"CreatedSince\":\"2 years ago\",\"Digest\":\"\\u003cnone\\u003e\",\"ID\":\"cccccccccccc\",\"Repository\":\"\\u003cnone\\u003e\",\"SharedSize\":\"100B\",\"Size\":\"1GB\",\"Tag\":\"\\u003cnone\\u003e\",\"UniqueSize\":\"1000MB\",\"VirtualSize\":\"1GB\"}\n{\"Containers\":\"1\",\"CreatedAt\":\"2026-11-07 22:56:17 +0000 UTC\",\"CreatedSince\":\"2 weeks ago\",\"Digest\":\"\",\"ID\":\"dddddddddddd\",\"Repository\":\"foo/bar\",\"SharedSize\":\"0B\",\"Size\":\"1e+03kB\",\"Tag\":\"\\u003cnone\\u003e\",\"UniqueSize\":\"1000kB\",\"VirtualSize\":\"1000kB\"}\n"
  },
  {
    "args": "images --format {{.ID}}|{{.Repository}}|{{.Tag}}|{{.Digest}}|{{.CreatedSince}}|{{.CreatedAt}}|{{.Size}}|{{.Containers}}|{{.VirtualSize}}|{{.SharedSize}}|{{.UniqueSize}}",
    "out": "aaaaaaaaaaaa|busybox|latest|sha256:2222222222222222222222222222222222222222222222222222222222222222|2 hours ago|2026-11-27 20:54:37 +0000 UTC|4.26MB|N/A|4.262MB|N/A|N/A\naaaaaaaaaaaa|busybox|1.36|sha256:2222222222222222222222222222222222222222222222222222222222222222|2 hours ago|2026-11-27 20:54:37 +0000 UTC|4.26MB|N/A|4.262MB|N/A|N/A\nbbbbbbbbbbbb|<none>|<none>|<none>|5 weeks ago|2026-10-18 22:56:17 +0000 UTC|123B|2|123B|N/A|N/A\ncccccccccccc|<none>|<none>|<none>|2 years ago|2024-09-18 22:56:17 +0000 UTC|1GB|0|1GB|100B|1000MB\ndddddddddddd|foo/bar|<none>||2 weeks ago|2026-11-07 22:56:17 +0000 UTC|1e+03kB|1|1000kB|0B|1000kB\n"
  }
];

/** POST /containers/create bodies sent by `docker create ...` (see container-opts.test.ts for the flags). */
export const CREATE_BODIES: Array<{ url: string; body: string }> = [
  {
    "url": "/v1.47/containers/create",
    "body": "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdout\":true,\"AttachStderr\":true,\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":[\"FOO=fooval\",\"BAR=1\",\"NOTSET\"],\"Cmd\":[\"echo\",\"hi\"],\"Image\":\"busybox\",\"Volumes\":{\"/anon\":{}},\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":{\"a\":\"b\"},\"HostConfig\":{\"Binds\":[\"vol:/data\",\"/tmp/mock/rel:/r\"],\"ContainerIDFile\":\"\",\"LogConfig\":{\"Type\":\"\",\"Config\":{}},\"NetworkMode\":\"default\",\"PortBindings\":{},\"RestartPolicy\":{\"Name\":\"no\",\"MaximumRetryCount\":0},\"AutoRemove\":true,\"VolumeDriver\":\"\",\"VolumesFrom\":null,\"ConsoleSize\":[0,0],\"CapAdd\":null,\"CapDrop\":null,\"CgroupnsMode\":\"\",\"Dns\":[],\"DnsOptions\":[],\"DnsSearch\":[],\"ExtraHosts\":null,\"GroupAdd\":null,\"IpcMode\":\"\",\"Cgroup\":\"\",\"Links\":null,\"OomScoreAdj\":0,\"PidMode\":\"\",\"Privileged\":false,\"PublishAllPorts\":false,\"ReadonlyRootfs\":false,\"SecurityOpt\":null,\"UTSMode\":\"\",\"UsernsMode\":\"\",\"ShmSize\":0,\"Isolation\":\"\",\"CpuShares\":0,\"Memory\":0,\"NanoCpus\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[],\"BlkioDeviceReadBps\":[],\"BlkioDeviceWriteBps\":[],\"BlkioDeviceReadIOps\":[],\"BlkioDeviceWriteIOps\":[],\"CpuPeriod\":0,\"CpuQuota\":0,\"CpuRealtimePeriod\":0,\"CpuRealtimeRuntime\":0,\"CpusetCpus\":\"\",\"CpusetMems\":\"\",\"Devices\":[],\"DeviceCgroupRules\":null,\"DeviceRequests\":null,\"MemoryReservation\":0,\"MemorySwap\":0,\"MemorySwappiness\":-1,\"OomKillDisable\":false,\"PidsLimit\":0,\"Ulimits\":[],\"CpuCount\":0,\"CpuPercent\":0,\"IOMaximumIOps\":0,\"IOMaximumBandwidth\":0,\"MaskedPaths\":null,\"ReadonlyPaths\":null},\"NetworkingConfig\":{\"EndpointsConfig\":{\"default\":{\"IPAMConfig\":null,\"Links\":null,\"Aliases\":null,\"MacAddress\":\"\",\"DriverOpts\":null,\"GwPriority\":0,\"NetworkID\":\"\",\"EndpointID\":\"\",\"Gateway\":\"\",\"IPAddress\":\"\",\"IPPrefixLen\":0,\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,\"DNSNames\":null}}}}"
  },
  {
    "url": "/v1.47/containers/create?name=nm",
    "body": "{\"Hostname\":\"hh\",\"Domainname\":\"\",\"User\":\"u\",\"AttachStdin\":true,\"AttachStdout\":true,\"AttachStderr\":true,\"Tty\":true,\"OpenStdin\":true,\"StdinOnce\":true,\"Env\":null,\"Cmd\":[\"true\"],\"Image\":\"busybox\",\"Volumes\":{},\"WorkingDir\":\"/x\",\"Entrypoint\":[\"\"],\"OnBuild\":null,\"Labels\":{},\"StopSignal\":\"SIGUSR1\",\"StopTimeout\":7,\"HostConfig\":{\"Binds\":null,\"ContainerIDFile\":\"\",\"LogConfig\":{\"Type\":\"\",\"Config\":{}},\"NetworkMode\":\"none\",\"PortBindings\":{},\"RestartPolicy\":{\"Name\":\"on-failure\",\"MaximumRetryCount\":3},\"AutoRemove\":false,\"VolumeDriver\":\"foo\",\"VolumesFrom\":[\"a:ro\",\"b\"],\"ConsoleSize\":[0,0],\"CapAdd\":null,\"CapDrop\":null,\"CgroupnsMode\":\"\",\"Dns\":[],\"DnsOptions\":[],\"DnsSearch\":[],\"ExtraHosts\":null,\"GroupAdd\":null,\"IpcMode\":\"\",\"Cgroup\":\"\",\"Links\":null,\"OomScoreAdj\":0,\"PidMode\":\"\",\"Privileged\":false,\"PublishAllPorts\":false,\"ReadonlyRootfs\":true,\"SecurityOpt\":null,\"Tmpfs\":{\"/t\":\"size=1m\",\"/u\":\"\"},\"UTSMode\":\"\",\"UsernsMode\":\"\",\"ShmSize\":0,\"Isolation\":\"\",\"CpuShares\":0,\"Memory\":0,\"NanoCpus\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[],\"BlkioDeviceReadBps\":[],\"BlkioDeviceWriteBps\":[],\"BlkioDeviceReadIOps\":[],\"BlkioDeviceWriteIOps\":[],\"CpuPeriod\":0,\"CpuQuota\":0,\"CpuRealtimePeriod\":0,\"CpuRealtimeRuntime\":0,\"CpusetCpus\":\"\",\"CpusetMems\":\"\",\"Devices\":[],\"DeviceCgroupRules\":null,\"DeviceRequests\":null,\"MemoryReservation\":0,\"MemorySwap\":0,\"MemorySwappiness\":-1,\"OomKillDisable\":false,\"PidsLimit\":0,\"Ulimits\":[],\"CpuCount\":0,\"CpuPercent\":0,\"IOMaximumIOps\":0,\"IOMaximumBandwidth\":0,\"Mounts\":[{\"Type\":\"tmpfs\",\"Target\":\"/m\"},{\"Type\":\"volume\",\"Source\":\"v\",\"Target\":\"/v\",\"VolumeOptions\":{\"NoCopy\":true,\"DriverConfig\":{}}}],\"MaskedPaths\":null,\"ReadonlyPaths\":null},\"NetworkingConfig\":{\"EndpointsConfig\":{}}}"
  },
  {
    "url": "/v1.47/containers/create",
    "body": "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdout\":true,\"AttachStderr\":true,\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":[\"E1=v1\",\"E3=a b \",\"FOO=fooval\",\"X=2\"],\"Cmd\":null,\"Image\":\"busybox\",\"Volumes\":{},\"WorkingDir\":\"\",\"Entrypoint\":[\"sh -c\"],\"OnBuild\":null,\"Labels\":{\"k\":\"\",\"k2\":\"v\"},\"HostConfig\":{\"Binds\":null,\"ContainerIDFile\":\"\",\"LogConfig\":{\"Type\":\"\",\"Config\":{}},\"NetworkMode\":\"host\",\"PortBindings\":{},\"RestartPolicy\":{\"Name\":\"no\",\"MaximumRetryCount\":0},\"AutoRemove\":true,\"VolumeDriver\":\"\",\"VolumesFrom\":null,\"ConsoleSize\":[0,0],\"CapAdd\":null,\"CapDrop\":null,\"CgroupnsMode\":\"\",\"Dns\":[],\"DnsOptions\":[],\"DnsSearch\":[],\"ExtraHosts\":null,\"GroupAdd\":null,\"IpcMode\":\"\",\"Cgroup\":\"\",\"Links\":null,\"OomScoreAdj\":0,\"PidMode\":\"\",\"Privileged\":false,\"PublishAllPorts\":false,\"ReadonlyRootfs\":false,\"SecurityOpt\":null,\"UTSMode\":\"\",\"UsernsMode\":\"\",\"ShmSize\":0,\"Isolation\":\"\",\"CpuShares\":0,\"Memory\":0,\"NanoCpus\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[],\"BlkioDeviceReadBps\":[],\"BlkioDeviceWriteBps\":[],\"BlkioDeviceReadIOps\":[],\"BlkioDeviceWriteIOps\":[],\"CpuPeriod\":0,\"CpuQuota\":0,\"CpuRealtimePeriod\":0,\"CpuRealtimeRuntime\":0,\"CpusetCpus\":\"\",\"CpusetMems\":\"\",\"Devices\":[],\"DeviceCgroupRules\":null,\"DeviceRequests\":null,\"MemoryReservation\":0,\"MemorySwap\":0,\"MemorySwappiness\":-1,\"OomKillDisable\":false,\"PidsLimit\":0,\"Ulimits\":[],\"CpuCount\":0,\"CpuPercent\":0,\"IOMaximumIOps\":0,\"IOMaximumBandwidth\":0,\"MaskedPaths\":null,\"ReadonlyPaths\":null},\"NetworkingConfig\":{\"EndpointsConfig\":{}}}"
  },
  {
    "url": "/v1.47/containers/create",
    "body": "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":true,\"AttachStdout\":true,\"AttachStderr\":true,\"Tty\":false,\"OpenStdin\":true,\"StdinOnce\":true,\"Env\":null,\"Cmd\":null,\"Image\":\"busybox\",\"Volumes\":{},\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":{},\"HostConfig\":{\"Binds\":null,\"ContainerIDFile\":\"\",\"LogConfig\":{\"Type\":\"\",\"Config\":{}},\"NetworkMode\":\"default\",\"PortBindings\":{},\"RestartPolicy\":{\"Name\":\"always\",\"MaximumRetryCount\":0},\"AutoRemove\":false,\"VolumeDriver\":\"\",\"VolumesFrom\":null,\"ConsoleSize\":[0,0],\"CapAdd\":null,\"CapDrop\":null,\"CgroupnsMode\":\"\",\"Dns\":[],\"DnsOptions\":[],\"DnsSearch\":[],\"ExtraHosts\":null,\"GroupAdd\":null,\"IpcMode\":\"\",\"Cgroup\":\"\",\"Links\":null,\"OomScoreAdj\":0,\"PidMode\":\"\",\"Privileged\":false,\"PublishAllPorts\":false,\"ReadonlyRootfs\":false,\"SecurityOpt\":null,\"UTSMode\":\"\",\"UsernsMode\":\"\",\"ShmSize\":0,\"Isolation\":\"\",\"CpuShares\":0,\"Memory\":0,\"NanoCpus\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[],\"BlkioDeviceReadBps\":[],\"BlkioDeviceWriteBps\":[],\"BlkioDeviceReadIOps\":[],\"BlkioDeviceWriteIOps\":[],\"CpuPeriod\":0,\"CpuQuota\":0,\"CpuRealtimePeriod\":0,\"CpuRealtimeRuntime\":0,\"CpusetCpus\":\"\",\"CpusetMems\":\"\",\"Devices\":[],\"DeviceCgroupRules\":null,\"DeviceRequests\":null,\"MemoryReservation\":0,\"MemorySwap\":0,\"MemorySwappiness\":-1,\"OomKillDisable\":false,\"PidsLimit\":0,\"Ulimits\":[],\"CpuCount\":0,\"CpuPercent\":0,\"IOMaximumIOps\":0,\"IOMaximumBandwidth\":0,\"MaskedPaths\":null,\"ReadonlyPaths\":null},\"NetworkingConfig\":{\"EndpointsConfig\":{}}}"
  },
  {
    "url": "/v1.47/containers/create",
    "body": "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":true,\"AttachStdout\":true,\"AttachStderr\":false,\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":null,\"Cmd\":null,\"Image\":\"busybox\",\"Volumes\":{},\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":{},\"HostConfig\":{\"Binds\":null,\"ContainerIDFile\":\"\",\"LogConfig\":{\"Type\":\"\",\"Config\":{}},\"NetworkMode\":\"default\",\"PortBindings\":{},\"RestartPolicy\":{\"Name\":\"no\",\"MaximumRetryCount\":0},\"AutoRemove\":false,\"VolumeDriver\":\"\",\"VolumesFrom\":null,\"ConsoleSize\":[0,0],\"CapAdd\":null,\"CapDrop\":null,\"CgroupnsMode\":\"\",\"Dns\":[],\"DnsOptions\":[],\"DnsSearch\":[],\"ExtraHosts\":null,\"GroupAdd\":null,\"IpcMode\":\"\",\"Cgroup\":\"\",\"Links\":null,\"OomScoreAdj\":0,\"PidMode\":\"\",\"Privileged\":false,\"PublishAllPorts\":false,\"ReadonlyRootfs\":false,\"SecurityOpt\":null,\"UTSMode\":\"\",\"UsernsMode\":\"\",\"ShmSize\":0,\"Isolation\":\"\",\"CpuShares\":0,\"Memory\":0,\"NanoCpus\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[],\"BlkioDeviceReadBps\":[],\"BlkioDeviceWriteBps\":[],\"BlkioDeviceReadIOps\":[],\"BlkioDeviceWriteIOps\":[],\"CpuPeriod\":0,\"CpuQuota\":0,\"CpuRealtimePeriod\":0,\"CpuRealtimeRuntime\":0,\"CpusetCpus\":\"\",\"CpusetMems\":\"\",\"Devices\":[],\"DeviceCgroupRules\":null,\"DeviceRequests\":null,\"MemoryReservation\":0,\"MemorySwap\":0,\"MemorySwappiness\":-1,\"OomKillDisable\":false,\"PidsLimit\":0,\"Ulimits\":[],\"CpuCount\":0,\"CpuPercent\":0,\"IOMaximumIOps\":0,\"IOMaximumBandwidth\":0,\"MaskedPaths\":null,\"ReadonlyPaths\":null},\"NetworkingConfig\":{\"EndpointsConfig\":{\"default\":{\"IPAMConfig\":null,\"Links\":null,\"Aliases\":null,\"MacAddress\":\"\",\"DriverOpts\":null,\"GwPriority\":0,\"NetworkID\":\"\",\"EndpointID\":\"\",\"Gateway\":\"\",\"IPAddress\":\"\",\"IPPrefixLen\":0,\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,\"DNSNames\":null}}}}"
  }
];

/** Raw inspect JSON from a daemon, and docker's `inspect` output for it. */
export const INSPECT_RAW = "{\"Id\":\"abc\",\"Name\":\"/c1\",\"Config\":{\"Labels\":null,\"Env\":null,\"Cmd\":[\"sh\"],\"X\":\"\\u003cb\\u003e\",\"N\":1.50,\"E\":{},\"A\":[]},\"State\":{\"Status\":\"exited\",\"ExitCode\":3},\"Mounts\":[]}";
export const INSPECT_OUTPUT = "[\n    {\n        \"Id\": \"abc\",\n        \"Name\": \"/c1\",\n        \"Config\": {\n            \"Labels\": null,\n            \"Env\": null,\n            \"Cmd\": [\n                \"sh\"\n            ],\n            \"X\": \"\\u003cb\\u003e\",\n            \"N\": 1.50,\n            \"E\": {},\n            \"A\": []\n        },\n        \"State\": {\n            \"Status\": \"exited\",\n            \"ExitCode\": 3\n        },\n        \"Mounts\": []\n    }\n]\n";
