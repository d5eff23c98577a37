// npm run bench: every benchmark, figures on stdout.
import { benchVolumes } from './volumes.js';

const only = process.argv[2];
if (!only || only === 'volumes') await benchVolumes();
