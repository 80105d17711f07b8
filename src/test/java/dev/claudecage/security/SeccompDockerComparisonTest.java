package dev.claudecage.security;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.json.Json;
import dev.claudecage.oci.Spec;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our profile against Docker's current default (moby/profiles seccomp/default.json, see
 * src/test/resources/reference/NOTICE), read the way Docker applies it to an amd64 container
 * with Docker's default capabilities: we allow nothing Docker refuses, and whatever Docker
 * allows that we refuse is named in our denied list with a reason.
 */
class SeccompDockerComparisonTest {

    /** Docker's default capability set (moby oci/caps/defaults.go). */
    private static final Set<String> DOCKER_DEFAULT_CAPS = Set.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID",
            "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
            "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE");
    private static final String DOCKER_ARCH = "amd64";
    /** minKernel rules are judged for Debian 12's kernel, the platform claude-cage targets. */
    private static final List<Integer> KERNEL = List.of(6, 1);

    /** Names in Docker's allowlist that x86_64 has no number for: 32-bit, time64 and other architectures' calls. */
    private static final Set<String> NOT_ON_X86_64 = Set.of(
            "_llseek", "_newselect", "chown32", "clock_adjtime64", "clock_getres_time64", "clock_gettime64",
            "clock_nanosleep_time64", "fadvise64_64", "fchown32", "fcntl64", "fstat64", "fstatat64", "fstatfs64",
            "ftruncate64", "futex_time64", "getegid32", "geteuid32", "getgid32", "getgroups32", "getresgid32",
            "getresuid32", "getuid32", "io_pgetevents_time64", "ipc", "lchown32", "lstat64", "mmap2",
            "mq_timedreceive_time64", "mq_timedsend_time64", "ppoll_time64", "pselect6_time64", "recv",
            "recvmmsg_time64", "riscv_hwprobe", "rt_sigtimedwait_time64", "sched_rr_get_interval_time64",
            "semtimedop_time64", "send", "sendfile64", "setfsgid32", "setfsuid32", "setgid32", "setgroups32",
            "setregid32", "setresgid32", "setresuid32", "setreuid32", "setuid32", "sigprocmask", "sigreturn",
            "socketcall", "stat64", "statfs64", "timer_gettime64", "timer_settime64", "timerfd_gettime64",
            "timerfd_settime64", "truncate64", "ugetrlimit", "utimensat_time64", "waitpid");

    private static final List<JsonNode> DOCKER_ALLOW_RULES = dockerAllowRules();
    private static final SeccompPolicy OURS = SeccompPolicy.defaultPolicy();

    @Test
    void everyCallWeAllowDockerAllowsToo() {
        List<String> notCovered = new ArrayList<>();
        for (Spec.SeccompSyscall rule : OURS.toOci("amd64").syscalls()) {
            if (!rule.action().equals(SeccompPolicy.ALLOW)) {
                continue;
            }
            for (String name : rule.names()) {
                boolean covered = DOCKER_ALLOW_RULES.stream()
                        .filter(docker -> names(docker).contains(name))
                        .anyMatch(docker -> implies(rule.args(), docker.get("args")));
                if (!covered) {
                    notCovered.add(name + (rule.args() == null ? "" : " " + rule.args()));
                }
            }
        }
        assertEquals(List.of(), notCovered);
    }

    @Test
    void everyCallDockerAllowsIsOursOrDeniedWithAReason() {
        Set<String> ours = Stream.of(
                        OURS.allowed().stream().flatMap(group -> group.names().stream()),
                        OURS.conditional().stream().flatMap(rule -> rule.names().stream()),
                        OURS.denied().stream().flatMap(denial -> denial.names().stream()))
                .flatMap(names -> names)
                .collect(Collectors.toSet());
        Set<String> unexplained = new TreeSet<>(dockerAllowedNames());
        unexplained.removeAll(NOT_ON_X86_64);
        unexplained.removeAll(ours);

        assertEquals(Set.of(), unexplained);
    }

    @Test
    void weAllowFewerCallsThanDocker() {
        Set<String> docker = new TreeSet<>(dockerAllowedNames());
        docker.removeAll(NOT_ON_X86_64);
        long ours = OURS.toOci("amd64").syscalls().stream()
                .filter(rule -> rule.action().equals(SeccompPolicy.ALLOW))
                .flatMap(rule -> rule.names().stream())
                .distinct()
                .count();

        assertEquals(309, docker.size(), "DESIGN.md counts 309 calls in Docker's amd64 allowlist");
        assertTrue(ours < docker.size(), ours + " allowed, Docker " + docker.size());
    }

    @Test
    void theNamesSetAsideAsNotOnX86_64AreDockers() {
        assertTrue(dockerAllowedNames().containsAll(NOT_ON_X86_64));
    }

    /**
     * Whether every argument value our rule lets through also passes Docker's rule: each of Docker's
     * conditions (all of which must hold) follows from one of ours (all of which must hold).
     */
    private static boolean implies(List<Spec.SeccompArg> ours, JsonNode dockerArgs) {
        if (dockerArgs == null || dockerArgs.isEmpty()) {
            return true;
        }
        if (ours == null) {
            return false;
        }
        return StreamSupport.stream(dockerArgs.spliterator(), false)
                .allMatch(docker -> ours.stream().anyMatch(condition -> implies(condition, docker)));
    }

    private static boolean implies(Spec.SeccompArg condition, JsonNode docker) {
        return docker.get("index").asInt() == condition.index() && switch (condition.op()) {
            case SeccompPolicy.EQUAL -> dockerAccepts(docker, condition.value());
            case SeccompPolicy.MASKED_EQUAL -> docker.get("op").asText().equals(SeccompPolicy.MASKED_EQUAL)
                    && (value(docker) & ~condition.value()) == 0
                    && (condition.valueTwo() & value(docker)) == valueTwo(docker);
            default -> throw new IllegalArgumentException("the converter never writes " + condition.op());
        };
    }

    private static boolean dockerAccepts(JsonNode condition, long argument) {
        int order = Long.compareUnsigned(argument, value(condition));
        return switch (condition.get("op").asText()) {
            case "SCMP_CMP_EQ" -> order == 0;
            case "SCMP_CMP_NE" -> order != 0;
            case "SCMP_CMP_LT" -> order < 0;
            case "SCMP_CMP_LE" -> order <= 0;
            case "SCMP_CMP_GT" -> order > 0;
            case "SCMP_CMP_GE" -> order >= 0;
            case "SCMP_CMP_MASKED_EQ" -> (argument & value(condition)) == valueTwo(condition);
            default -> throw new IllegalArgumentException("unknown op in Docker's profile: " + condition);
        };
    }

    private static long value(JsonNode condition) {
        return condition.get("value").asLong();
    }

    private static long valueTwo(JsonNode condition) {
        return condition.path("valueTwo").asLong(0);
    }

    private static Set<String> dockerAllowedNames() {
        return DOCKER_ALLOW_RULES.stream().flatMap(rule -> names(rule).stream()).collect(Collectors.toSet());
    }

    private static List<String> names(JsonNode rule) {
        return StreamSupport.stream(rule.get("names").spliterator(), false).map(JsonNode::asText).toList();
    }

    /** Docker's allow rules as Docker applies them: all included caps held, no excluded cap held, arch and kernel met. */
    private static List<JsonNode> dockerAllowRules() {
        JsonNode profile;
        try (InputStream in = SeccompDockerComparisonTest.class.getResourceAsStream("/reference/docker-seccomp-default.json")) {
            profile = Json.mapper().readTree(in);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read Docker's reference profile", e);
        }
        return StreamSupport.stream(profile.get("syscalls").spliterator(), false)
                .filter(rule -> rule.get("action").asText().equals(SeccompPolicy.ALLOW))
                .filter(rule -> strings(rule.path("includes").path("caps")).stream().allMatch(DOCKER_DEFAULT_CAPS::contains))
                .filter(rule -> strings(rule.path("excludes").path("caps")).stream().noneMatch(DOCKER_DEFAULT_CAPS::contains))
                .filter(rule -> rule.path("includes").path("arches").isMissingNode()
                        || strings(rule.path("includes").path("arches")).contains(DOCKER_ARCH))
                .filter(rule -> !strings(rule.path("excludes").path("arches")).contains(DOCKER_ARCH))
                .filter(rule -> kernelAtLeast(rule.path("includes").path("minKernel").asText("0.0")))
                .toList();
    }

    private static boolean kernelAtLeast(String minKernel) {
        String[] parts = minKernel.split("\\.");
        int major = Integer.parseInt(parts[0]);
        int minor = Integer.parseInt(parts[1]);
        return KERNEL.get(0) > major || KERNEL.get(0) == major && KERNEL.get(1) >= minor;
    }

    private static List<String> strings(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText).toList();
    }
}
