/**
 * Fixed length buckets, so that what the relay and push services can measure (ciphertext lengths) does not
 * tell them what happened: a person, a pet and plain motion look alike (issue 14, finding 5;
 * docs/03-wire-format.md §9).
 *
 * Buckets are powers of two from `min`, then multiples of `step` above it: coarse where the messages that
 * matter are (announcements, sightings, pushes), and bounded overhead (< 2×, < `step` bytes above it) for
 * the long ones (a long clip's record list, whose length the blob's own size already shows).
 */
export function bucketLength(length: number, min = 1024, step = 4096): number {
  if (length <= min) return min
  let b = min
  while (b < step && b < length) b *= 2
  if (length <= b) return b
  return Math.ceil(length / step) * step
}
