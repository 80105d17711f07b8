package dev.claudecage.desktop;

import dev.claudecage.UserInputException;
import dev.claudecage.oci.Spec;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What makes a cage a desktop: the desktop image's entrypoint runs first (Xvfb, openbox, x11vnc)
 * and then the session's command in a terminal; the cage learns its VNC password and the port
 * x11vnc listens on from its environment. No web server runs in the cage: the supervisor serves
 * noVNC's page from the host ({@link DesktopServer}). Everything else of the spec, every wall
 * included, stays as built for any cage.
 */
public final class DesktopCage {

    /** Where the desktop image keeps its entrypoint (docker/desktop/Dockerfile). */
    public static final String ENTRYPOINT = "/opt/claude-cage-desktop/entrypoint-desktop.sh";
    /** The variables the entrypoint reads that claude-cage sets; the user's values for them are replaced. */
    private static final Set<String> OURS = Set.of("VNC_PASSWORD", "VNC_PORT", "VNC_LISTEN");

    private static final Pattern RESOLUTION = Pattern.compile("[1-9][0-9]{1,4}x[1-9][0-9]{1,4}(x(8|16|24|32))?");

    private DesktopCage() {
    }

    /**
     * Checks what the user sets for the desktop in the cage's environment before a session is made,
     * so that a typo is an error now (exit 2), not a desktop that ends at once.
     */
    public static void checkEnvironment(List<String> env) {
        for (String entry : env) {
            if (entry.startsWith("VNC_RESOLUTION=")) {
                String value = entry.substring("VNC_RESOLUTION=".length());
                if (!RESOLUTION.matcher(value).matches()) {
                    throw new UserInputException("env: VNC_RESOLUTION '" + value + "' is not a screen size",
                            "give WIDTHxHEIGHT or WIDTHxHEIGHTxDEPTH (depth 8, 16, 24 or 32), e.g. 2560x1440");
                }
            }
        }
    }

    public static Spec adjust(Spec spec, DesktopAccess access) {
        List<String> args = new ArrayList<>();
        args.add(ENTRYPOINT);
        args.addAll(spec.process().args());
        List<String> env = new ArrayList<>(spec.process().env().stream()
                .filter(entry -> !OURS.contains(entry.substring(0, Math.max(0, entry.indexOf('=')))))
                .toList());
        env.add("VNC_PASSWORD=" + access.password());
        env.add("VNC_PORT=" + access.mapping().cagePort());
        // Only the supervisor's desktop server, inside the cage's namespace, connects to it.
        env.add("VNC_LISTEN=127.0.0.1");
        return spec.withProcess(spec.process().withArgs(args).withEnv(env));
    }
}
