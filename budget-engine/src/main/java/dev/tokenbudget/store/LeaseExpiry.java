package dev.tokenbudget.store;

import java.util.List;

/** A reservation whose lease ran out unsettled and was charged at its reserved amount. */
public record LeaseExpiry(String treeId, String leaseId, TokenCounts charged, List<String> budgetIds,
                          List<ThresholdCrossing> crossings) {
}
