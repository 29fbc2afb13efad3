/**
 * Builds message sub-structures from the forms applications and other
 * implementations hold them in.
 *
 * `payoutFunctionFromPieces` turns explicit curve pieces (each with both of its
 * end points, as rust-dlc's `PayoutFunction` and most UIs hold them) into the
 * wire `payout_function`, whose pieces share end points. The wire form cannot
 * express a discontinuity, so this is where one is rejected (rust-dlc
 * `offer_numerical_non_continuous` reject case; PayoutCurve.md: "pieces ...
 * must be continuous").
 *
 * This module does NOT evaluate payout curves (protocol/numeric) and does no I/O.
 */
import { DlcError } from '../errors.js';
import type { HyperbolaPayoutCurvePiece, PayoutFunction, PayoutFunctionPiece, PayoutPoint } from './types.js';

/** One payout curve piece with its own end points. */
export type ExplicitPayoutPiece =
  | {
      /** At least two points: the piece's left end point, interpolation points, its right end point. */
      polynomial: PayoutPoint[];
    }
  | {
      hyperbola: HyperbolaPayoutCurvePiece['hyperbolaPayoutCurvePiece'];
      leftEndpoint: PayoutPoint;
      rightEndpoint: PayoutPoint;
    };

function samePoint(a: PayoutPoint, b: PayoutPoint): boolean {
  return a.eventOutcome === b.eventOutcome && a.outcomePayout === b.outcomePayout && a.extraPrecision === b.extraPrecision;
}

function invalid(message: string, reason: string): DlcError {
  return new DlcError('INVALID_PARAMS', message, { reason });
}

/**
 * The wire payout function of a sequence of explicit pieces.
 * 1. at least one piece; every polynomial piece has at least two points;
 * 2. each piece's right end point equals the next piece's left end point
 *    (continuity), compared on outcome, payout and extra precision.
 * Point ordering and domain are checked by validateOffer / protocol/numeric.
 *
 * @throws {DlcError} INVALID_PARAMS with reason `payout-function-empty`,
 *   `polynomial-piece-too-short` or `payout-function-not-continuous`.
 */
export function payoutFunctionFromPieces(pieces: readonly ExplicitPayoutPiece[]): PayoutFunction {
  if (pieces.length === 0) throw invalid('a payout function needs at least one piece', 'payout-function-empty');
  const out: PayoutFunctionPiece[] = [];
  let previousRight: PayoutPoint | undefined;
  for (const [i, piece] of pieces.entries()) {
    let left: PayoutPoint;
    let right: PayoutPoint;
    if ('polynomial' in piece) {
      const pts = piece.polynomial;
      if (pts.length < 2) throw invalid(`polynomial piece ${i} has fewer than two points`, 'polynomial-piece-too-short');
      left = pts[0]!;
      right = pts[pts.length - 1]!;
      out.push({ endPoint: left, payoutCurvePiece: { polynomialPayoutCurvePiece: { payoutPoints: pts.slice(1, -1) } } });
    } else {
      left = piece.leftEndpoint;
      right = piece.rightEndpoint;
      out.push({ endPoint: left, payoutCurvePiece: { hyperbolaPayoutCurvePiece: { ...piece.hyperbola } } });
    }
    if (previousRight !== undefined && !samePoint(previousRight, left)) {
      throw invalid(
        `piece ${i} starts at outcome ${left.eventOutcome}, not where piece ${i - 1} ends (${previousRight.eventOutcome})`,
        'payout-function-not-continuous',
      );
    }
    previousRight = right;
  }
  return { payoutFunctionPieces: out, lastEndpoint: previousRight! };
}
