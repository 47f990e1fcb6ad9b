package dev.tokenbudget.allocation;

/**
 * Whether the children of a budget may together be allotted more than the budget itself
 * (per window and dimension). The parent's own cap binds either way; {@link #REJECT} makes the
 * config loader refuse such a tree, so that every child's allocation is backed by the parent.
 */
public enum Oversubscription {
    /** Children's limits may add up to more than the parent's (the default): the parent's cap arbitrates. */
    ALLOW,
    /** Children's limits must add up to at most the parent's: a config that breaks this is refused. */
    REJECT
}
