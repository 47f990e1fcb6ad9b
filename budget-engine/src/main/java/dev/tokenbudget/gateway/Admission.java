package dev.tokenbudget.gateway;

/**
 * The result of {@link BudgetGateway#admit}: a {@link Reply} to send back instead of calling the
 * provider, or a {@link Forward} saying how to call it.
 */
public sealed interface Admission permits Reply, Forward {
}
