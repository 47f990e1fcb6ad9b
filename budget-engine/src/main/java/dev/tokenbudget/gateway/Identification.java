package dev.tokenbudget.gateway;

/**
 * The result of {@link BudgetGateway#identify}: a {@link Reply} to send back at once (401), or an
 * {@link Identified} request to read the body of and {@link BudgetGateway#admit admit}.
 */
public sealed interface Identification permits Reply, Identified {
}
