// Face of the sample-image catalogue: image reference → how to run it as a local process.
export { resolveImage, knownImages, imageRepository } from './catalogue.ts';
export type { ImageEntry } from './catalogue.ts';
