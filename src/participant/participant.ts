/**
 * A participant (a miner or a buyer): its configuration and, lazily, its
 * ports: the wallet, each contract's signer (`contractSigner`: the wallet's
 * funding keys today), the node, the coordinator and oracle clients and the
 * signing engine; progress and notes go to callbacks
 * (the CLI writes them to stderr, the agent logs them). `close()` releases
 * the wallet lock and stops the engine's workers.
 *
 * This module does NOT implement use cases, and never prints.
 */
import type { HashProfile } from '../../protocol/crypto/index.js';
import { verifyAnnouncement } from '../../protocol/messages/index.js';
import type { OracleAnnouncement } from '../../protocol/messages/index.js';
import { toHex } from '../../protocol/messages/index.js';
import { BitcoinRpc } from '../chain/index.js';
import { AdaptorEngine } from '../engine/index.js';
import { Wallet } from '../wallet/index.js';
import type { ParticipantConfig } from './config.js';
import { needCoordinator, needOracles, needRpc } from './config.js';
import { ParticipantError } from './errors.js';
import { CoordinatorClient, OracleClient, type OracleEventJson, type OracleInfo } from '../api/index.js';
import type { Progress } from './progress.js';
import { walletContractSigner, type ContractSigner } from './signer.js';

/** How a participant reports: progress of long steps, notes for its user. Both optional (silent). */
export interface ParticipantOutput {
  progress?: Progress;
  note?: (line: string) => void;
}

/**
 * Where contract signatures come from: by default the wallet's
 * `walletContractSigner`; another `ContractSigner` (external wallet, HSM)
 * plugs in here, by contract key index.
 */
export interface ParticipantSigners {
  contractSigner?: (keyIndex: number) => ContractSigner;
}

export class Participant {
  readonly config: ParticipantConfig;
  readonly progress: Progress;
  #wallet: Wallet | undefined;
  #rpc: BitcoinRpc | undefined;
  #engine: AdaptorEngine | undefined;
  readonly #oracleInfo = new Map<string, OracleInfo>();
  #nodeChecked = false;
  readonly #readOnly: boolean;

  readonly #note: (line: string) => void;
  readonly #signers = new Map<number, ContractSigner>();
  readonly #makeSigner: ((keyIndex: number) => ContractSigner) | undefined;

  /** `readOnly`: the use case only reads the wallet (a dry run), so it does not take the wallet lock. */
  constructor(config: ParticipantConfig, options: { readOnly?: boolean } & ParticipantOutput & ParticipantSigners = {}) {
    this.config = config;
    this.#readOnly = options.readOnly === true;
    this.progress = options.progress ?? (() => undefined);
    this.#note = options.note ?? (() => undefined);
    this.#makeSigner = options.contractSigner;
  }

  /**
   * The wallet (its network must match a network given by flag or env),
   * locked for this command's run unless the command is read-only (one
   * process per wallet; released by `close()`).
   * @throws {WalletError} WALLET_LOCKED when another process uses it.
   */
  wallet(): Wallet {
    this.#wallet ??= Wallet.open(this.config.walletDir, { lock: !this.#readOnly, ...(this.config.networkGiven ? { expectNetwork: this.config.network } : {}) });
    return this.#wallet;
  }

  /** The node, checked once to be on the wallet's network. */
  async rpc(): Promise<BitcoinRpc> {
    this.#rpc ??= new BitcoinRpc(needRpc(this.config));
    if (!this.#nodeChecked) {
      await this.wallet().checkNode(this.#rpc);
      this.#nodeChecked = true;
    }
    return this.#rpc;
  }

  coordinator(): CoordinatorClient {
    return new CoordinatorClient(needCoordinator(this.config));
  }

  /** A client of each oracle this participant trusts, in configured order. @throws {ParticipantError} CONFIG when none. */
  oracles(): OracleClient[] {
    return needOracles(this.config).map((url) => new OracleClient(url));
  }

  /** The first configured oracle. @throws {ParticipantError} CONFIG when none. */
  oracle(): OracleClient {
    return this.oracles()[0]!;
  }

  /**
   * An oracle's info (default: the first configured), its key checked
   * against the pinned ones (if any) and its network against the wallet's.
   * @throws {ParticipantError} MISMATCH.
   */
  async oracleInfo(url: string = this.oracle().http.base): Promise<OracleInfo> {
    const known = this.#oracleInfo.get(url);
    if (known !== undefined) return known;
    const info = await new OracleClient(url).info();
    const pinned = this.config.oraclePubkeys;
    if (pinned.length > 0 && !pinned.includes(info.publicKey)) {
      throw new ParticipantError('MISMATCH', `the oracle at ${url} has key ${info.publicKey}, not one of the pinned ${pinned.join(', ')}`, { reason: 'oracle-pubkey' });
    }
    const net = this.wallet().network.name;
    if (info.network !== net && !(info.network === 'testnet3' && net === 'testnet')) {
      throw new ParticipantError('MISMATCH', `the oracle at ${url} is on ${info.network}, the wallet on ${net}`, { reason: 'oracle-network' });
    }
    this.#oracleInfo.set(url, info);
    return info;
  }

  /**
   * An oracle event's announcement, checked: signed by the key of the oracle
   * that served it (`url`, default the first configured; BIP340 with its hash
   * profile) and of the event asked for.
   * @throws {ParticipantError} MISMATCH; {DlcError} BAD_SIGNATURE.
   */
  async checkedAnnouncement(ev: OracleEventJson, url: string = this.oracle().http.base): Promise<{ announcement: OracleAnnouncement; hashProfile: HashProfile }> {
    const info = await this.oracleInfo(url);
    const announcement = OracleClient.announcementOf(ev);
    if (toHex(announcement.oraclePublicKey) !== info.publicKey) {
      throw new ParticipantError('MISMATCH', `event ${ev.eventId} is announced by ${toHex(announcement.oraclePublicKey)}, not the key ${info.publicKey} of the oracle at ${url}`, { reason: 'oracle-pubkey' });
    }
    if (announcement.oracleEvent.eventId !== ev.eventId) {
      throw new ParticipantError('MISMATCH', `the oracle served event ${announcement.oracleEvent.eventId} for ${ev.eventId}`, { reason: 'event-id' });
    }
    verifyAnnouncement(announcement, info.hashProfile);
    return { announcement, hashProfile: info.hashProfile };
  }

  /** The worker pool (started on first use). */
  async engine(): Promise<AdaptorEngine> {
    this.#engine ??= await AdaptorEngine.start(this.config.threads === undefined ? {} : { threads: this.config.threads });
    return this.#engine;
  }

  /**
   * The signer of a contract's funding key (by its record or key index):
   * the wallet's (CET adaptor signatures on `engine()`, started only when
   * needed), unless another was given to the constructor.
   */
  contractSigner(contract: number | { keyIndex: number }): ContractSigner {
    const index = typeof contract === 'number' ? contract : contract.keyIndex;
    let signer = this.#signers.get(index);
    if (signer === undefined) {
      signer = this.#makeSigner?.(index) ?? walletContractSigner(this.wallet(), index, () => this.engine(), this.progress);
      this.#signers.set(index, signer);
    }
    return signer;
  }

  /** A note for the user (the CLI: stderr; the agent: its log). */
  note(line: string): void {
    this.#note(line);
  }

  async close(): Promise<void> {
    this.#wallet?.release();
    await this.#engine?.close();
  }
}
