package dev.claudecage.config;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The check of one allowed_hosts entry (NAME, NAME:PORT, *.DOMAIN or *.DOMAIN:PORT), in one place:
 * the configuration refuses an entry that fails it, and policy suggest never proposes one.
 */
public final class AllowedHostEntry {

    private static final int MAX_PORT = 65535;
    private static final int MAX_LABEL = 63;
    private static final int MAX_HOST_NAME = 253;
    private static final Pattern HOST_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?");
    private static final Pattern NUMERIC_LABEL = Pattern.compile("[0-9]+");

    private AllowedHostEntry() {
    }

    /** Why an allowed_hosts entry is refused, or null when it is fine. */
    public static String problem(String entry) {
        if (entry.isEmpty()) {
            return "is an empty entry";
        }
        if (entry.startsWith("[") || entry.indexOf(':') != entry.lastIndexOf(':')) {
            return "is an IP address; the proxy allows host names only";
        }
        String name = entry.toLowerCase(Locale.ROOT);
        int colon = name.indexOf(':');
        if (colon >= 0) {
            String problem = portProblem(name.substring(colon + 1));
            if (problem != null) {
                return problem;
            }
            name = name.substring(0, colon);
        }
        if (name.equals("*")) {
            return "allows every host";
        }
        String domain = name.startsWith("*.") ? name.substring(2) : name;
        if (domain.contains("*")) {
            return "has a '*' that is not the whole first label, as in *.example.com";
        }
        List<String> labels = Arrays.asList(domain.split("\\.", -1));
        if (labels.stream().allMatch(label -> NUMERIC_LABEL.matcher(label).matches())) {
            return "is an IP address; the proxy allows host names only";
        }
        if (domain.length() > MAX_HOST_NAME || !labels.stream().allMatch(
                label -> label.length() <= MAX_LABEL && HOST_LABEL.matcher(label).matches())) {
            return "is not a host name (labels of letters, digits and inner '-', separated by '.')";
        }
        if (name.startsWith("*.") && labels.size() < 2) {
            return "is overly broad: a wildcard must cover a domain of at least two labels, as in *.example.com";
        }
        return null;
    }

    /** Why a port written in an entry is refused, or null. */
    static String portProblem(String port) {
        if (!NUMERIC_LABEL.matcher(port).matches() || port.length() > 5
                || Integer.parseInt(port) < 1 || Integer.parseInt(port) > MAX_PORT) {
            return "has port '" + port + "', not a number from 1 to " + MAX_PORT;
        }
        return null;
    }
}
