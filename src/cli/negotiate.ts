/**
 * `hashdlc accept`, `hashdlc sign`, `hashdlc fund`: the command line parsed
 * into the library's input (src/participant/negotiate.ts `acceptOffer`,
 * `signContract`, `fundContract`, where every check before signing lives),
 * the result printed. External wallets: `--psbt-out FILE` writes the funding
 * PSBT the library returns, and stops; `--psbt-in FILE` reads the signed PSBT
 * (base64 or binary) and hands it to the library.
 *
 * This module does NOT check or sign anything itself, nor settle (settle.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { EXTERNAL_FUNDING_OPTIONS, COMMON_OPTIONS, bigintOpt, list, str, type CommandSpec, type OptionValues, parseOrHelp, NET_OPTIONS } from './args.js';
import { loadConfig } from './config.js';
import { CliContext, withContext } from './context.js';
import { printLuckWarnings } from './offer.js';
import { acceptOffer, fundContract, oneExternalRun, signContract, type AcceptInput, type ExternalPsbtInput, type PsbtOutResult } from '../participant/negotiate.js';

const NET = { ...NET_OPTIONS, threads: COMMON_OPTIONS.threads! };
const PSBT = {
  'psbt-out': { type: 'string', value: 'FILE', help: 'write the funding PSBT for an external wallet to sign, and stop' },
  'psbt-in': { type: 'string', value: 'FILE', help: 'the funding PSBT signed by the external wallet (base64 or binary)' },
} as const satisfies CommandSpec['options'];

export const ACCEPT_SPEC: CommandSpec = {
  name: 'accept',
  args: '<offer-id>',
  minArgs: 1,
  summary: 'Accept an offer: check it against its terms and its oracles, fund from this wallet, sign every CET.',
  details: [
    'Checks, before signing anything: the offer is the contract its terms describe (every payout),',
    "the oracle event measures what the terms say; every oracle of the offer's K-of-n set is one of your",
    '--oracle (its key), its announcement is the one that oracle serves you, K is at least --threshold if given;',
    'the CET locktime is at most the attestation height and the refund comes after it plus a grace',
    '(and no later than it plus the maximum grace); the window has not started, the event is not attested',
    'and the funding deadline has not passed; a sale\'s delivery address is fresh (no other live contract',
    'of this wallet measures it, it holds no coins).',
    'A strip (any of its period ids): every period is checked so before anything is signed, and all are accepted',
    'in one round, funded by one transaction (errors name the period); --utxo and --psbt-out/--psbt-in work as for one contract.',
  ],
  options: {
    ...NET,
    'delivery-address': { type: 'string', value: 'ADDR', help: 'hashpower sale: confirm the delivery address when it is not this wallet\'s' },
    'max-fee-rate': { type: 'string', value: 'SAT_PER_VB', help: "refuse offers with a higher fee rate (default 3x the node's 6-block estimate, at least 5; 10 on regtest without an estimate)" },
    'dry-run': { type: 'boolean', help: 'check and show the offer, then stop' },
    ...EXTERNAL_FUNDING_OPTIONS,
  },
};

export const SIGN_SPEC: CommandSpec = {
  name: 'sign',
  args: '<contract-id>',
  minArgs: 1,
  summary: "Offerer: verify the accepter's signatures, sign every CET and the refund, sign your funding inputs.",
  details: ["A strip (any period's id): every period's accept verified first, then all signed; your funding inputs once."],
  options: { ...NET, ...PSBT },
};

export const FUND_SPEC: CommandSpec = {
  name: 'fund',
  args: '<contract-id>',
  minArgs: 1,
  summary: "Accepter: verify the offerer's signatures and funding witnesses, sign your funding inputs; the coordinator broadcasts.",
  details: [
    '--broadcast: finalise and broadcast the funding transaction through your own node instead.',
    "A strip (any period's id): every period's sign_dlc verified, then the one funding transaction signed.",
  ],
  options: { ...NET, ...PSBT, broadcast: { type: 'boolean', help: 'broadcast through your node, not the coordinator' } },
};

export function readPsbtFile(path: string): string {
  const raw = readFileSync(path);
  const text = raw.toString('utf8').trim();
  if (/^[A-Za-z0-9+/=\s]+$/.test(text) && text.startsWith('cHNidP')) return text.replace(/\s+/g, '');
  return raw.toString('base64');
}

// ------------------------------------------------------------------ accept

export async function acceptCommand(argv: string[]): Promise<number> {
  const parsed = parseOrHelp(ACCEPT_SPEC, argv);
  if (parsed === undefined) return 0;
  const v = parsed.values;
  const id = parsed.positionals[0]!;
  const dryRun = v['dry-run'] === true;
  const input: AcceptInput = { id, dryRun, utxos: list(v, 'utxo') };
  const deliveryAddress = str(v, 'delivery-address');
  const maxFee = bigintOpt(v, 'max-fee-rate');
  const payoutAddress = str(v, 'payout-address');
  const changeAddress = str(v, 'change-address');
  if (deliveryAddress !== undefined) input.deliveryAddress = deliveryAddress;
  if (maxFee !== undefined) input.maxFeeRatePerVb = maxFee;
  if (payoutAddress !== undefined) input.payoutAddress = payoutAddress;
  if (changeAddress !== undefined) input.changeAddress = changeAddress;
  return withContext(loadConfig(v), { readOnly: dryRun }, async (ctx) => {
    const r = await acceptOffer(ctx, input);
    printLuckWarnings(r.measurementRisk);
    const risk = r.measurementRisk.risks.length > 0 ? { measurementRisk: r.measurementRisk.risks } : {};
    if (r.dryRun) {
      ctx.print(
        { id: r.id, checked: true, terms: r.terms, eventId: r.eventId, threshold: r.threshold, oracles: r.oracles, cets: r.cets, ...(r.strip !== undefined ? { strip: r.strip } : {}), ...risk },
        [r.strip !== undefined ? `strip checked: each of its ${r.strip.periods.length} periods is the contract its terms describe` : 'offer checked: it is the contract its terms describe', ...r.summary],
      );
    } else {
      ctx.print(
        { id: r.id, state: r.state, contractId: r.contractId, fundingTxid: r.fundingTxid, cets: r.cets, adaptorSignatures: r.adaptorSignatures, ...(r.strip !== undefined ? { strip: r.strip } : {}), ...risk },
        [
          `accepted ${r.strip !== undefined ? `strip ${r.id} (${r.strip.periods.length} periods)` : `offer ${r.id}`}${r.resent ? ' (the stored accept_dlc sent again)' : ''}`,
          ...r.summary,
          ...(r.strip !== undefined
            ? [...r.strip.periods.map((x) => `  period ${x.index + 1}: offer ${x.id}, contract ${x.contractId ?? '?'}`), `funding txid ${r.fundingTxid}`]
            : [`contract id ${r.contractId}, funding txid ${r.fundingTxid}`]),
          "next: the offerer signs; then run 'hashdlc fund'",
        ],
      );
    }
  });
}

// ------------------------------------------------------------------ sign and fund

/** `--psbt-in FILE` read (base64 text or binary), `--psbt-out FILE` noted: the library's external-wallet input. */
function externalPsbtInput(values: OptionValues): ExternalPsbtInput & { psbtOutFile: string | undefined } {
  const psbtOutFile = str(values, 'psbt-out');
  const psbtInFile = str(values, 'psbt-in');
  // Before the file is read: the two halves are separate runs.
  oneExternalRun({ ...(psbtOutFile !== undefined ? { psbtOut: true } : {}), ...(psbtInFile !== undefined ? { psbtIn: psbtInFile } : {}) });
  return { psbtOutFile, ...(psbtOutFile !== undefined ? { psbtOut: true } : {}), ...(psbtInFile !== undefined ? { psbtIn: readPsbtFile(psbtInFile) } : {}) };
}

/** Writes the funding PSBT for the external wallet and prints how to finish the step. */
function printPsbtOut(ctx: CliContext, r: PsbtOutResult, file: string, checked: string, command: string): void {
  writeFileSync(file, `${r.psbt}\n`);
  ctx.print({ id: r.id, psbtOut: file, fundingTxid: r.fundingTxid }, [
    checked,
    `funding PSBT written to ${file}: sign your inputs with your wallet, then run`,
    `  hashdlc ${command} ${r.id} --psbt-in FILE`,
  ]);
}

export async function signCommand(argv: string[]): Promise<number> {
  const parsed = parseOrHelp(SIGN_SPEC, argv);
  if (parsed === undefined) return 0;
  const { psbtOutFile, ...external } = externalPsbtInput(parsed.values);
  return withContext(loadConfig(parsed.values), {}, async (ctx) => {
    const r = await signContract(ctx, { id: parsed.positionals[0]!, ...external });
    if (r.psbtOut) {
      printPsbtOut(ctx, r, psbtOutFile!, 'accept verified; your CET and refund signatures are made and stored', 'sign');
    } else if (r.resent) {
      ctx.print({ id: r.id, state: r.state, contractId: r.contractId }, [`sign_dlc of ${r.id} sent again`]);
    } else {
      ctx.print({ id: r.id, state: r.state, contractId: r.contractId, fundingTxid: r.fundingTxid, ...(r.strip !== undefined ? { strip: r.strip } : {}) }, [
        r.strip !== undefined ? `signed strip ${r.id}: ${r.strip.contractIds.length} period contracts ${r.strip.contractIds.join(', ')}` : `signed contract ${r.contractId} (offer ${r.id})`,
        `funding txid ${r.fundingTxid}; the accepter funds next`,
      ]);
    }
  });
}

export async function fundCommand(argv: string[]): Promise<number> {
  const parsed = parseOrHelp(FUND_SPEC, argv);
  if (parsed === undefined) return 0;
  const { psbtOutFile, ...external } = externalPsbtInput(parsed.values);
  const broadcast = parsed.values.broadcast === true;
  return withContext(loadConfig(parsed.values), {}, async (ctx) => {
    const r = await fundContract(ctx, { id: parsed.positionals[0]!, broadcast, ...external });
    if (r.psbtOut) {
      printPsbtOut(ctx, r, psbtOutFile!, "offerer's signatures verified", 'fund');
    } else {
      ctx.print({ id: r.id, state: r.state, contractId: r.contractId, fundingTxid: r.fundingTxid, ...(r.strip !== undefined ? { strip: r.strip } : {}) }, [
        `funding transaction ${r.fundingTxid} ${r.alreadyFunded ? 'was broadcast in an earlier run' : `broadcast${r.broadcastBy === 'node' ? ' through your node' : ' by the coordinator'}`}`,
        r.strip !== undefined ? `strip ${r.id}: period contracts ${r.strip.contractIds.join(', ')}` : `contract ${r.contractId}`,
      ]);
    }
  });
}
