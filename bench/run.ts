// npm run bench: every benchmark, figures on stdout.
import { benchVolumes } from './volumes.js';
import { benchContainers } from './containers.js';
import { benchVolumeArchive } from './volume-archive.js';
import { benchBackup } from './backup.js';
import { benchBackupFreeze } from './backup-freeze.js';
import { benchSpawn } from './spawn.js';

const only = process.argv[2];
if (!only || only === 'volumes') await benchVolumes();
if (!only || only === 'containers') await benchContainers();
if (!only || only === 'spawn') await benchSpawn();
if (!only || only === 'volume-archive') await benchVolumeArchive();
if (!only || only === 'backup') await benchBackup();
if (!only || only === 'backup-freeze') await benchBackupFreeze();
