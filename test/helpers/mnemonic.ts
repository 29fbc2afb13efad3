/**
 * The BIP39 test mnemonic (entropy 0x00 x 16, the first English vector of
 * BIP39 and of trezor/python-mnemonic's vectors.json) that the unit tests
 * build their wallets from, so every test derives the same, publicly known keys.
 *
 * This module does NOT hold any key that may guard funds: never use it outside tests.
 */
export const TEST_MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
