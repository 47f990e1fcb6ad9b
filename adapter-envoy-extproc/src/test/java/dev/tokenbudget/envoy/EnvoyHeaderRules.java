package dev.tokenbudget.envoy;

import io.envoyproxy.envoy.config.common.mutation_rules.v3.HeaderMutationRules;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption.HeaderAppendAction;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * How Envoy applies a processor's {@link HeaderMutation} to a header map, rule by rule. Each rule
 * names the Envoy function it mirrors; read at Envoy main after v1.37.0 (the ext_proc filter with
 * {@code status_on_error} and {@code processing_request_modifier}; Checker::check with CheckOperation):
 * {@code source/extensions/filters/http/ext_proc/mutation_utils.cc} and
 * {@code source/extensions/filters/common/mutation_rules/mutation_rules.cc}.
 *
 * <p>A mutation Envoy refuses throws {@link EnvoyRules.Refused} (Envoy answers the client 500); a
 * mutation Envoy silently drops (a disallowed header without {@code disallow_is_error}) throws too:
 * the processor relied on a change that never happens, which for a credential header means the
 * virtual key goes upstream.
 */
final class EnvoyHeaderRules {

    /** HCM defaults: {@code common_http_protocol_options.max_headers_count}, {@code max_request_headers_kb}. */
    static final int MAX_HEADERS_COUNT = 100;
    static final int MAX_HEADERS_KB = 60;

    /** Checker::extraRoutingHeaders (mutation_rules.cc): changed only with {@code allow_all_routing}. */
    private static final Set<String> ROUTING = Set.of("host", ":authority", ":method", ":scheme");

    /** HeaderUtility::headerNameIsValid: HTTP/2 header names are lower-case tokens, ':' only first. */
    private static final Pattern NAME = Pattern.compile(":?[a-z0-9!#$%&'*+.^_`|~-]+");

    private enum Op { SET, APPEND, REMOVE }

    private enum Check { OK, IGNORE, FAIL }

    private final HeaderMutationRules rules;
    private final Pattern allow;
    private final Pattern disallow;

    EnvoyHeaderRules(HeaderMutationRules rules) {
        this.rules = rules;
        this.allow = rules.hasAllowExpression() ? Pattern.compile(rules.getAllowExpression().getRegex()) : null;
        this.disallow = rules.hasDisallowExpression() ? Pattern.compile(rules.getDisallowExpression().getRegex()) : null;
    }

    /**
     * MutationUtils::applyHeaderMutations: applies {@code m} to {@code headers} (lower-case names,
     * values in order) as Envoy does, or throws what Envoy would answer.
     *
     * @param removeContentLength ProcessorState::shouldRemoveContentLength: a set content-length is skipped
     */
    void apply(HeaderMutation m, Map<String, List<String>> headers, boolean removeContentLength) {
        // MutationUtils::responseHeaderSizeCheck
        if (m.getRemoveHeadersCount() > MAX_HEADERS_COUNT || m.getSetHeadersCount() > MAX_HEADERS_COUNT) {
            throw refused("header mutation sets or removes more than " + MAX_HEADERS_COUNT + " headers",
                    "mutation_utils.cc MutationUtils::responseHeaderSizeCheck");
        }
        for (String r : m.getRemoveHeadersList()) {
            if (!NAME.matcher(r).matches()) {
                throw refused("invalid character in remove_headers: " + r, "mutation_utils.cc applyHeaderMutations");
            }
            String name = r.toLowerCase(Locale.ROOT);
            if (outcome(Op.REMOVE, name, "") == Check.OK) {
                headers.remove(name);
            }
        }
        for (HeaderValueOption o : m.getSetHeadersList()) {
            if (!o.hasHeader()) {
                continue;
            }
            HeaderValue h = o.getHeader();
            String name = h.getKey().toLowerCase(Locale.ROOT);
            if (removeContentLength && name.equals("content-length")) {
                continue;
            }
            if (!h.getValue().isEmpty() && !h.getRawValue().isEmpty()) {
                throw refused("header " + name + " sets both value and raw_value", "mutation_utils.cc applyHeaderMutations");
            }
            // runtime guard envoy.reloadable_features.send_header_raw_value (default true since 1.27.0):
            // Envoy reads raw_value only; a value in `value` would be set as an empty header
            if (!h.getValue().isEmpty()) {
                throw refused("header " + name + " is in `value`; Envoy >= 1.27 reads raw_value and would set it "
                        + "empty", "mutation_utils.cc applyHeaderMutations (send_header_raw_value)");
            }
            String value = h.getRawValue().toString(StandardCharsets.UTF_8);
            if (!NAME.matcher(h.getKey()).matches() || !validValue(value)) {
                throw refused("invalid character in set_headers: " + name, "mutation_utils.cc applyHeaderMutations");
            }
            // This Envoy reads only the deprecated `append` (default false: overwrite) and not
            // append_action; an answer means the same on every version only when it overwrites
            // and says so in both.
            boolean append = o.hasAppend() && o.getAppend().getValue();
            if (append || o.getAppendAction() != HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD) {
                throw refused("header " + name + " is not an overwrite (append " + append + ", append_action "
                        + o.getAppendAction() + "): its meaning differs between Envoy versions",
                        "mutation_utils.cc applyHeaderMutations");
            }
            if (outcome(Op.SET, name, value) == Check.OK) {
                List<String> values = new ArrayList<>(1);
                values.add(value);
                headers.put(name, values);
            }
        }
        // MutationUtils::headerMutationResultCheck
        long bytes = 0;
        int count = 0;
        for (Map.Entry<String, List<String>> e : headers.entrySet()) {
            for (String v : e.getValue()) {
                bytes += e.getKey().length() + v.getBytes(StandardCharsets.UTF_8).length;
                count++;
            }
        }
        if (bytes > MAX_HEADERS_KB * 1024L || count > MAX_HEADERS_COUNT) {
            throw refused("after the mutation the headers exceed " + MAX_HEADERS_COUNT + " headers or "
                    + MAX_HEADERS_KB + " KiB", "mutation_utils.cc MutationUtils::headerMutationResultCheck");
        }
    }

    /** Checker::check: OK, or the refusal Envoy turns into a 500 or a silently dropped mutation. */
    private Check outcome(Op op, String name, String value) {
        if (isAllowed(op, name) && (op == Op.REMOVE || isValidValue(name, value))) {
            return Check.OK;
        }
        String what = (op == Op.REMOVE ? "remove " : "set ") + name;
        if (rules.hasDisallowIsError() && rules.getDisallowIsError().getValue()) {
            throw refused("Invalid attempt to " + what + " (disallow_is_error)", "mutation_rules.cc Checker::check");
        }
        throw refused("Envoy would silently ignore the attempt to " + what + " (rejected_header_mutations)",
                "mutation_rules.cc Checker::check");
    }

    /** Checker::isAllowed. */
    private boolean isAllowed(Op op, String name) {
        // HeaderUtility::isModifiableHeader: no rule lets a processor remove host or a ':' header
        if (op == Op.REMOVE && (name.startsWith(":") || name.equals("host"))) {
            return false;
        }
        if (disallow != null && disallow.matcher(name).matches()) {
            return false;
        }
        if (allow != null && allow.matcher(name).matches()) {
            return true;
        }
        if (flag(rules.hasDisallowAll(), rules.getDisallowAll().getValue())) {
            return false;
        }
        if (!flag(rules.hasAllowAllRouting(), rules.getAllowAllRouting().getValue()) && ROUTING.contains(name)) {
            return false;
        }
        if (name.startsWith(":") && (op == Op.APPEND || flag(rules.hasDisallowSystem(),
                rules.getDisallowSystem().getValue()))) {
            return false;
        }
        return flag(rules.hasAllowEnvoy(), rules.getAllowEnvoy().getValue()) || !name.startsWith("x-envoy");
    }

    /** Checker::isValidValue. */
    private static boolean isValidValue(String name, String value) {
        if (!name.startsWith(":") && !validValue(value)) {
            return false;
        }
        if ((name.equals("host") || name.equals(":authority")) && (value.isEmpty() || value.contains("/"))) {
            return false;
        }
        if (name.equals(":scheme") && !value.equals("http") && !value.equals("https")) {
            return false;
        }
        if (name.equals(":status")) {
            try {
                return Integer.parseInt(value) >= 200;
            } catch (NumberFormatException e) {
                return false;
            }
        }
        return true;
    }

    /** HeaderUtility::headerValueIsValid: no NUL, CR or LF. */
    private static boolean validValue(String v) {
        return v.indexOf('\0') < 0 && v.indexOf('\r') < 0 && v.indexOf('\n') < 0;
    }

    private static boolean flag(boolean has, boolean value) {
        return has && value;
    }

    private static EnvoyRules.Refused refused(String what, String where) {
        return new EnvoyRules.Refused(what, where);
    }
}
