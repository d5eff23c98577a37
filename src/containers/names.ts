import { InvalidParameter } from '../errors.js';

const VALID = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** docker's container name rule and message. Returns the name without a leading slash. */
export function validateContainerName(name: string): string {
  if (!VALID.test(name)) {
    throw new InvalidParameter(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return name.replace(/^\//, '');
}

// A short list in the spirit of docker's namesgenerator: adjective_scientist.
const LEFT = ['admiring', 'brave', 'calm', 'clever', 'eager', 'festive', 'gifted', 'happy', 'jolly', 'keen', 'lucid', 'modest', 'nifty', 'quirky', 'sharp', 'tender', 'upbeat', 'vigilant', 'wizardly', 'zealous'];
const RIGHT = ['archimedes', 'babbage', 'curie', 'darwin', 'einstein', 'franklin', 'galileo', 'hopper', 'jemison', 'kepler', 'lovelace', 'meitner', 'newton', 'noether', 'pascal', 'ritchie', 'shannon', 'thompson', 'turing', 'wozniak'];

export function generateName(taken: (name: string) => boolean): string {
  for (let attempt = 0; ; attempt++) {
    const l = LEFT[Math.floor(Math.random() * LEFT.length)]!;
    const r = RIGHT[Math.floor(Math.random() * RIGHT.length)]!;
    const name = attempt < 10 ? `${l}_${r}` : `${l}_${r}${Math.floor(Math.random() * 10)}`;
    if (!taken(name)) return name;
  }
}
