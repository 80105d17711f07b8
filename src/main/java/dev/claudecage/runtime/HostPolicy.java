package dev.claudecage.runtime;

import dev.claudecage.CageException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.oci.Spec;
import dev.claudecage.security.AppArmor;
import dev.claudecage.security.SeccompPolicy;

import java.nio.file.Path;

/**
 * The host-dependent parts of the policy, resolved once before the pure spec builder runs:
 * the seccomp filter for this architecture and the AppArmor profile where the kernel has one.
 */
public record HostPolicy(Spec.Seccomp seccomp, String apparmorProfile, AppArmor appArmor) {

    public static HostPolicy resolve(CageConfig config) {
        SeccompPolicy policy = "default".equals(config.seccompProfile())
                ? SeccompPolicy.defaultPolicy()
                : SeccompPolicy.load(Path.of(config.seccompProfile()));
        AppArmor appArmor = AppArmor.detect();
        String profile = switch (appArmor.status()) {
            case ENFORCED -> AppArmor.PROFILE_NAME;
            case UNAVAILABLE -> null;
            case PROFILE_NOT_LOADED -> throw new CageException(
                    "refusing to start a cage without its AppArmor profile: " + appArmor.detail(),
                    "load it with: sudo make load-apparmor");
        };
        return new HostPolicy(policy.toOci(System.getProperty("os.arch")), profile, appArmor);
    }
}
