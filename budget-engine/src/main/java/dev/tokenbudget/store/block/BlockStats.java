package dev.tokenbudget.store.block;

/**
 * What a {@link BlockStore}'s blocks did since it opened.
 *
 * @param blocks        blocks reserved in the store
 * @param carved        requests reserved from a block, in memory
 * @param oneByOne      requests sent to the store alone (first on a path, near a line, refused blocks)
 * @param flushes       blocks settled to the store
 * @param refusedBlocks blocks the store refused, or that came too close to a line and were given back
 * @param renewedAhead  blocks asked for while the path's open block still took requests (its low-water mark)
 * @param waited        requests that found no block to fit in and waited for the path's next one
 */
public record BlockStats(long blocks, long carved, long oneByOne, long flushes, long refusedBlocks,
                         long renewedAhead, long waited) {
}
