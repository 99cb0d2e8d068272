/**
 * pruningStopOverRanks, the runner's agreement of the ranks on a stop while pruning, over a stand-in
 * for the process group's gather (each rank's [stopped, signal number], as allGather returns them):
 * a rank stops when any rank does, with its own reason, else with the first stopped rank's signal,
 * whose number os.constants.signals gives (the reference).
 */
import { constants } from 'node:os';
import { DataParallelContext } from '../../src/distributed/data-parallel';
import { pruningStopOverRanks } from '../../src/experiments/pruning-stop';

/** Rank `rank` of 3 whose gather returns `others` in the other ranks' places. */
function rankOf3(rank: number, others: number[][]): { dp: DataParallelContext; sent: number[][] } {
  const dp = new DataParallelContext(rank, 3);
  const sent: number[][] = [];
  dp.gatherNumbers = (values) => {
    sent.push([...values]);
    const all = [...others];
    all.splice(rank, 0, [...values]);
    return all;
  };
  return { dp, sent };
}

it('one process: no agreement', () => {
  expect(pruningStopOverRanks(new DataParallelContext(0, 1))).toBeUndefined();
});

it('no rank stops: every rank goes on', () => {
  const { dp, sent } = rankOf3(0, [[0, 0], [0, 0]]);
  expect(pruningStopOverRanks(dp)!(undefined)).toBeUndefined();
  expect(sent).toEqual([[0, 0]]);
});

it('a rank stopped by its own signal keeps its reason and tells the others its signal\'s number', () => {
  const { dp, sent } = rankOf3(1, [[0, 0], [1, constants.signals.SIGINT]]);
  expect(pruningStopOverRanks(dp)!('SIGTERM')).toBe('SIGTERM');
  expect(sent).toEqual([[1, constants.signals.SIGTERM]]);
});

it('a rank whose signal has not come stops with the first stopped rank\'s signal', () => {
  const { dp } = rankOf3(0, [[1, constants.signals.SIGTERM], [1, constants.signals.SIGINT]]);
  expect(pruningStopOverRanks(dp)!(undefined)).toBe('SIGTERM');
});

it('a stop that is no signal (a library caller\'s abort) is named by its rank', () => {
  const { dp, sent } = rankOf3(2, [[0, 0], [1, 0]]);
  expect(pruningStopOverRanks(dp)!(undefined)).toBe('the abort signal of rank 1');
  expect(sent).toEqual([[0, 0]]);
});
