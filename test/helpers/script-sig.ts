import { script as bscript } from 'bitcoinjs-lib';

/** The 64-byte compact signature inside a DER+sighash-type witness element. */
export function bscriptSignatureDecode(element: Uint8Array): Uint8Array {
  return Uint8Array.from(bscript.signature.decode(element).signature);
}
