package dev.tokenbudget.store.block;

/**
 * What a {@link BlockStore}'s blocks did since it opened.
 *
 * @param blocks        blocks reserved in the store
 * @param carved        requests reserved from a block, in memory
 * @param oneByOne      requests sent to the store alone (first on a path, near a line, refused blocks)
 * @param flushes       blocks settled to the store
 * @param refusedBlocks blocks the store refused, or that came too close to a line and were given back
 */
public record BlockStats(long blocks, long carved, long oneByOne, long flushes, long refusedBlocks) {
}
