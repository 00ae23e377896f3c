import { describe, expect, it } from 'vitest';
import { bucketDays, daysBucket, soonestOfBuckets } from '../../lambdas/store/run-shards';

describe('daysBucket', () => {
  it.each([
    { daysLeft: null, bucket: 'dn', reads: null },
    { daysLeft: -400, bucket: 'd-14', reads: -14 },
    { daysLeft: -14, bucket: 'd-14', reads: -14 },
    { daysLeft: -1, bucket: 'd-1', reads: -1 },
    { daysLeft: 0, bucket: 'd0', reads: 0 },
    { daysLeft: 7.9, bucket: 'd7', reads: 7 },
    { daysLeft: 60, bucket: 'd60', reads: 60 },
    { daysLeft: 61, bucket: 'd61', reads: 61 },
    { daysLeft: 90, bucket: 'd61', reads: 61 },
    { daysLeft: 91, bucket: 'd91', reads: 91 },
    { daysLeft: 400, bucket: 'd391', reads: 391 },
    { daysLeft: 5000, bucket: 'd420', reads: 420 },
  ])(
    'puts $daysLeft days in $bucket, read back as $reads (never later than the truth)',
    ({ daysLeft, bucket, reads }) => {
      // Act
      const name = daysBucket(daysLeft);
      // Assess
      expect(name).toBe(bucket);
      expect(bucketDays(name)).toBe(reads);
      if (daysLeft !== null && reads !== null) expect(reads).toBeLessThanOrEqual(Math.max(daysLeft, -14));
    },
  );

  it('has few enough buckets that a counter item stays within one write unit', () => {
    // Prepare: every bucket a counter shard can hold, each with a 7-digit count
    const names = new Set<string>();
    for (let d = -30; d <= 5000; d++) names.add(daysBucket(d));
    names.add(daysBucket(null));
    // Act: DynamoDB item size = attribute names + values (a number of 7 digits takes ~5 bytes)
    const bytes = [...names].reduce((n, name) => n + name.length + 5, 0) + 120;
    // Assess
    expect(bytes).toBeLessThan(1024);
  });
});

describe('soonestOfBuckets', () => {
  it('takes the smallest bucket with a positive count and ignores other attributes', () => {
    expect(soonestOfBuckets({ pk: 'RUN#x#00', completed: 9, failed: 1, dn: 3, d12: 0, d30: 2, d61: 4 })).toBe(
      30,
    );
    expect(soonestOfBuckets({ completed: 0 })).toBeNull();
  });
});
