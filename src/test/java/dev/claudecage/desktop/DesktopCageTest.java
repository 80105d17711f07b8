package dev.claudecage.desktop;

import dev.claudecage.config.ConfigLoader;
import dev.claudecage.config.HostFacts;
import dev.claudecage.oci.CageRequest;
import dev.claudecage.oci.NetworkAttachment;
import dev.claudecage.oci.Spec;
import dev.claudecage.oci.SpecBuilder;
import dev.claudecage.security.SeccompPolicy;
import dev.claudecage.UserInputException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DesktopCageTest {

    private static Spec spec(List<String> env) {
        var config = new ConfigLoader(Path.of("/nonexistent/system.yaml"), Path.of("/nonexistent/user.yaml"), Map.of(),
                new HostFacts(4, false, Optional.empty(), List.of()), Path.of("/")).load(Map.of("mode", "desktop", "env", env)).config();
        return SpecBuilder.build(config, new CageRequest(List.of("claude"), true, "s-it-1", "claude-cage",
                SeccompPolicy.defaultPolicy().toOci("amd64"), null,
                NetworkAttachment.none()));
    }

    @Test
    void theEntrypointRunsTheCommandAndLearnsThePasswordEverythingElseStays() {
        Spec before = spec(List.of("VNC_RESOLUTION=2560x1440", "VNC_PASSWORD=mine", "VNC_LISTEN=0.0.0.0"));
        DesktopAccess access = DesktopAccess.generate(DesktopPort.parse("127.0.0.1:7000:6081"));
        Spec after = DesktopCage.adjust(before, access);

        assertEquals(List.of(DesktopCage.ENTRYPOINT, "claude"), after.process().args());
        List<String> env = after.process().env();
        assertTrue(env.contains("VNC_RESOLUTION=2560x1440"), env.toString());
        assertTrue(env.contains("VNC_PASSWORD=" + access.password()), env.toString());
        assertTrue(env.contains("VNC_PORT=6081"), env.toString());
        assertTrue(env.contains("VNC_LISTEN=127.0.0.1"), env.toString());
        assertEquals(1, env.stream().filter(entry -> entry.startsWith("VNC_PASSWORD=")).count(), env.toString());
        assertEquals(1, env.stream().filter(entry -> entry.startsWith("VNC_LISTEN=")).count(), env.toString());
        // Every wall as built: the same user, capabilities, mounts, namespaces, seccomp, read-only root.
        assertEquals(before.process().user(), after.process().user());
        assertEquals(before.process().capabilities(), after.process().capabilities());
        assertEquals(before.process().noNewPrivileges(), after.process().noNewPrivileges());
        assertEquals(before.root(), after.root());
        assertEquals(before.mounts(), after.mounts());
        assertEquals(before.linux(), after.linux());
    }

    @Test
    void aScreenSizeThatXvfbWouldRefuseIsAnErrorBeforeTheSessionIsMade() {
        DesktopCage.checkEnvironment(List.of("VNC_RESOLUTION=2560x1440", "OTHER=x"));
        DesktopCage.checkEnvironment(List.of("VNC_RESOLUTION=1024x768x16"));
        for (String bad : List.of("2560", "2560x", "x1440", "2560*1440", "1024x768x12", "0x0", "1024x768 ")) {
            UserInputException e = assertThrows(UserInputException.class,
                    () -> DesktopCage.checkEnvironment(List.of("VNC_RESOLUTION=" + bad)), bad);
            assertTrue(e.getMessage().contains("VNC_RESOLUTION '" + bad + "'"), e.getMessage());
        }
    }
}
