package dev.claudecage.desktop;

import dev.claudecage.oci.Spec;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What makes a cage a desktop: the desktop image's entrypoint runs first (Xvfb, openbox, x11vnc,
 * noVNC) and then the session's command in a terminal; the cage learns its VNC password and the
 * noVNC port from its environment. Everything else of the spec, every wall included, stays as
 * built for any cage.
 */
public final class DesktopCage {

    /** Where the desktop image keeps its entrypoint (docker/desktop/Dockerfile). */
    public static final String ENTRYPOINT = "/opt/claude-cage-desktop/entrypoint-desktop.sh";
    /** The variables the entrypoint reads that claude-cage sets; the user's values for them are replaced. */
    private static final Set<String> OURS = Set.of("VNC_PASSWORD", "NOVNC_PORT", "NOVNC_LISTEN");

    private DesktopCage() {
    }

    public static Spec adjust(Spec spec, DesktopAccess access) {
        List<String> args = new ArrayList<>();
        args.add(ENTRYPOINT);
        args.addAll(spec.process().args());
        List<String> env = new ArrayList<>(spec.process().env().stream()
                .filter(entry -> !OURS.contains(entry.substring(0, Math.max(0, entry.indexOf('=')))))
                .toList());
        env.add("VNC_PASSWORD=" + access.password());
        env.add("NOVNC_PORT=" + access.mapping().cagePort());
        // Only the supervisor's forwarder, inside the cage's namespace, connects to it.
        env.add("NOVNC_LISTEN=127.0.0.1");
        return spec.withProcess(spec.process().withArgs(args).withEnv(env));
    }
}
