package dev.tokenbudget.scg;

import dev.tokenbudget.console.admin.BudgetTree;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;

import java.util.List;
import java.util.Map;

/**
 * {@code /actuator/tokenbudget}: the budget tree with use, state and forecast per window, as the
 * admin API's {@code GET /v1/budgets} shows it; {@code /actuator/tokenbudget/{id}} one budget
 * (404 when there is none). Exposed like any endpoint, through
 * {@code management.endpoints.web.exposure.include}. Read-only: limit changes stay with the admin
 * API and its token.
 */
@Endpoint(id = "tokenbudget")
public class TokenBudgetEndpoint {

    private final BudgetTree tree;

    TokenBudgetEndpoint(BudgetTree tree) {
        this.tree = tree;
    }

    @ReadOperation
    public Map<String, List<Map<String, Object>>> budgets() {
        return Map.of("budgets", tree.budgets());
    }

    @ReadOperation
    public Map<String, Object> budget(@Selector String id) {
        // null is Actuator's 404
        return tree.budget(id).orElse(null);
    }
}
