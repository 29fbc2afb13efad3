/**
 * Reads the shared test vectors verbatim from `../shared/dlc-vectors/`
 * (see its README), with a lossless JSON parse: integers beyond 2^53 come back
 * as `bigint`, safe integers as `number`, other numbers as `number`.
 *
 * Usage: `readVectorJson('dlcspecs/test_vectors/enum_single_oracle_test.json')`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseJson } from '../../protocol/messages/json.js';
import type { JsonValue } from '../../protocol/messages/json.js';

/** Absolute URL of the vectors folder. */
export const VECTORS_ROOT = new URL('../../../shared/dlc-vectors/', import.meta.url);

/** Absolute filesystem path of a vector file, from its path relative to the vectors folder. */
export function vectorPath(relative: string): string {
  return fileURLToPath(new URL(relative, VECTORS_ROOT));
}

/** The text of a vector file. */
export function readVectorText(relative: string): string {
  return readFileSync(vectorPath(relative), 'utf8');
}

/** A vector file parsed losslessly (u64 values exact). */
export function readVectorJson<T = JsonValue>(relative: string): T {
  return parseJson(readVectorText(relative)) as T;
}

/** File names (sorted) in a vector folder, e.g. `listVectors('dlcspecs/test_vectors')`. */
export function listVectors(folder: string, suffix = '.json'): string[] {
  const dir = folder.endsWith('/') ? folder : `${folder}/`;
  return readdirSync(vectorPath(dir))
    .filter((f) => f.endsWith(suffix))
    .sort();
}

/** One message of a dlcspecs `test_vectors/*.json` file. */
export interface SpecMessageVector {
  message: JsonValue;
  serialized: string;
}

/** A dlcspecs `test_vectors/*.json` file: offer, accept and sign, each as JSON and as wire hex. */
export interface SpecTestVector {
  offer_message: SpecMessageVector;
  accept_message: SpecMessageVector;
  sign_message: SpecMessageVector;
}

/** The 14 dlcspecs `test_vectors` files, as `[fileName, content]`. */
export function specTestVectors(): [string, SpecTestVector][] {
  return listVectors('dlcspecs/test_vectors').map((f) => [f, readVectorJson<SpecTestVector>(`dlcspecs/test_vectors/${f}`)]);
}
