package dev.tokenbudget.event;

/** Receives budget events; must not block (hand slow work to a queue). */
@FunctionalInterface
public interface BudgetEventListener {

    void onEvent(BudgetEvent event);
}
