import { describe, expect, it } from 'vitest';
import { twoLanes } from './suite-sequencer';

describe('twoLanes', () => {
  /** Items are names: "H…" heavy, anything else light; the number after the letter is the expected seconds. */
  const isHeavy = (name: string) => name.startsWith('H');
  const expectedMs = (name: string) => Number(name.slice(1)) * 1000;

  it.each([
    ['only light files keep their order', ['L1', 'L2', 'L3'], ['L1', 'L2', 'L3']],
    ['only heavy files keep their order', ['H9', 'H5', 'H1'], ['H9', 'H5', 'H1']],
    [
      'light files fill the time of each heavy one before the next heavy starts',
      ['H10', 'H6', 'L4', 'L4', 'L4', 'L2', 'L2'],
      ['H10', 'L4', 'L4', 'L4', 'H6', 'L2', 'L2'],
    ],
    [
      'heavy files left over when the light ones run out go last, in order',
      ['H5', 'H5', 'H5', 'L1'],
      ['H5', 'L1', 'H5', 'H5'],
    ],
    ['a heavy file comes first when both lanes are empty', ['L3', 'H3'], ['H3', 'L3']],
    ['no files, no queue', [], []],
  ])('%s', (_case, items, expected) => {
    // Act
    const queue = twoLanes(items, isHeavy, expectedMs);

    // Assess
    expect(queue).toEqual(expected);
  });
});
