package dev.claudecage.security;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.claudecage.CageException;
import dev.claudecage.UserInputException;
import dev.claudecage.json.Json;
import dev.claudecage.oci.Spec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SeccompPolicyTest {

    private static final Path SHIPPED = Path.of("security/seccomp-default.json");
    private static final Spec.Seccomp FILTER = SeccompPolicy.defaultPolicy().toOci("amd64");
    private static final String ALLOWED = "ALLOW";
    private static final String EPERM = "ERRNO 1";
    private static final String ENOSYS = "ERRNO 38";

    /** The calls DESIGN.md's threat model names as kernel attack surface. */
    private static final List<String> DESIGN_DENIED = List.of("mount", "umount2", "ptrace", "bpf", "keyctl",
            "add_key", "request_key", "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
            "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "unshare",
            "setns", "clone3");

    private static final long CLONE_NEWNS = 0x0002_0000L;
    private static final long CLONE_NEWCGROUP = 0x0200_0000L;
    private static final long CLONE_NEWUTS = 0x0400_0000L;
    private static final long CLONE_NEWIPC = 0x0800_0000L;
    private static final long CLONE_NEWUSER = 0x1000_0000L;
    private static final long CLONE_NEWPID = 0x2000_0000L;
    private static final long CLONE_NEWNET = 0x4000_0000L;
    private static final long SIGCHLD = 17;
    private static final long TIOCSTI = 0x5412;
    private static final long TIOCLINUX = 0x541C;
    private static final long AF_UNIX = 1;
    private static final long AF_INET = 2;
    private static final long AF_INET6 = 10;
    private static final long AF_NETLINK = 16;
    private static final long SOCK_STREAM = 1;
    private static final long SOCK_DGRAM = 2;
    private static final long SOCK_RAW = 3;
    private static final long SOCK_SEQPACKET = 5;
    private static final long SOCK_DCCP = 6;
    private static final long SOCK_NONBLOCK = 0x800;
    private static final long SOCK_CLOEXEC = 0x80000;
    private static final long IPPROTO_TCP = 6;
    private static final long IPPROTO_UDP = 17;
    private static final long IPPROTO_DCCP = 33;
    private static final long IPPROTO_SCTP = 132;
    private static final long IPPROTO_UDPLITE = 136;
    private static final long IPPROTO_MPTCP = 262;
    private static final long NETLINK_ROUTE = 0;
    private static final long NETLINK_AUDIT = 9;
    private static final long NETLINK_KOBJECT_UEVENT = 15;

    @Test
    void theOciFormNamesOnlyTheNativeArchitecture() {
        assertEquals(List.of("SCMP_ARCH_X86_64"), FILTER.architectures());
        assertEquals(List.of("SCMP_ARCH_AARCH64"), SeccompPolicy.defaultPolicy().toOci("aarch64").architectures());
    }

    @Test
    void anUnmappedHostArchitectureIsRefused() {
        CageException e = assertThrows(CageException.class, () -> SeccompPolicy.defaultPolicy().toOci("ppc64le"));

        assertEquals("no seccomp architecture mapping for ppc64le", e.getMessage());
    }

    @Test
    void errnoNamesBecomeNumbers() {
        assertEquals("SCMP_ACT_ERRNO", FILTER.defaultAction());
        assertEquals(1, FILTER.defaultErrnoRet());
        assertEquals(ENOSYS, outcome(FILTER, "clone3"));
    }

    @Test
    void everyDeniedCallIsRefused() {
        List<String> denied = SeccompPolicy.defaultPolicy().denied().stream()
                .flatMap(denial -> denial.names().stream())
                .toList();
        for (String name : Stream.concat(denied.stream(), DESIGN_DENIED.stream()).toList()) {
            assertTrue(FILTER.syscalls().stream()
                    .filter(rule -> rule.action().equals(SeccompPolicy.ALLOW))
                    .noneMatch(rule -> rule.names().contains(name)), name + " must have no allow rule");
            assertEquals(name.equals("clone3") ? ENOSYS : EPERM, outcome(FILTER, name), name);
        }
    }

    @Test
    void noCallHasBothAnUnconditionalAndAnArgumentRule() {
        Set<String> unconditional = namesOf(FILTER.syscalls().stream().filter(rule -> rule.args() == null));
        Set<String> conditional = namesOf(FILTER.syscalls().stream().filter(rule -> rule.args() != null));

        assertTrue(unconditional.stream().noneMatch(conditional::contains),
                "libseccomp 2.5 lets an unconditional rule override every argument rule of the same call");
        assertEquals(Set.of("socket", "socketpair", "clone", "ioctl", "personality"), conditional);
    }

    @Test
    void socketsOnlyOfTheOrdinaryFamilies() {
        Set<Long> families = Set.of(1L, 2L, 10L, 16L);
        for (long family = 0; family <= 64; family++) {
            long type = family == AF_INET || family == AF_INET6 ? SOCK_STREAM : SOCK_RAW;
            assertEquals(families.contains(family) ? ALLOWED : EPERM, outcome(FILTER, "socket", family, type, 0),
                    "family " + family);
        }
        assertEquals(EPERM, outcome(FILTER, "socket", 40L | 1L << 32, SOCK_STREAM, 0), "AF_VSOCK with high bits set");
        assertEquals(EPERM, outcome(FILTER, "socket", 38L | 1L << 32, SOCK_SEQPACKET, 0), "AF_ALG with high bits set");
        assertEquals(EPERM, outcome(FILTER, "socket", AF_INET | 1L << 32, SOCK_STREAM, 0), "stray high bits fail closed");
    }

    @Test
    void tcpAndUdpOverIpv4AndIpv6WithOrWithoutTheirFlags() {
        for (long family : List.of(AF_INET, AF_INET6)) {
            for (long flags : List.of(0L, SOCK_NONBLOCK, SOCK_CLOEXEC, SOCK_NONBLOCK | SOCK_CLOEXEC)) {
                assertEquals(ALLOWED, outcome(FILTER, "socket", family, SOCK_STREAM | flags, 0));
                assertEquals(ALLOWED, outcome(FILTER, "socket", family, SOCK_STREAM | flags, IPPROTO_TCP));
                assertEquals(ALLOWED, outcome(FILTER, "socket", family, SOCK_DGRAM | flags, 0));
                assertEquals(ALLOWED, outcome(FILTER, "socket", family, SOCK_DGRAM | flags, IPPROTO_UDP));
            }
            assertEquals(EPERM, outcome(FILTER, "socket", family, SOCK_STREAM, IPPROTO_UDP), "TCP sockets are TCP");
            assertEquals(EPERM, outcome(FILTER, "socket", family, SOCK_DGRAM, IPPROTO_TCP), "UDP sockets are UDP");
            assertEquals(EPERM, outcome(FILTER, "socket", family, SOCK_STREAM, IPPROTO_TCP | 1L << 32),
                    "a protocol with high bits set");
        }
    }

    @Test
    void noSctpDccpMptcpUdpLiteRawOrPingSockets() {
        for (long family : List.of(AF_INET, AF_INET6)) {
            for (long type : List.of(SOCK_STREAM, SOCK_SEQPACKET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC)) {
                assertEquals(EPERM, outcome(FILTER, "socket", family, type, IPPROTO_SCTP), "SCTP, type " + type);
            }
            assertEquals(EPERM, outcome(FILTER, "socket", family, SOCK_DCCP, IPPROTO_DCCP), "DCCP");
            assertEquals(EPERM, outcome(FILTER, "socket", family, SOCK_DCCP, 0), "DCCP by its type alone");
            assertEquals(EPERM, outcome(FILTER, "socket", family, SOCK_STREAM, IPPROTO_MPTCP), "MPTCP");
            assertEquals(EPERM, outcome(FILTER, "socket", family, SOCK_DGRAM, IPPROTO_UDPLITE), "UDP-Lite");
            assertEquals(EPERM, outcome(FILTER, "socket", family, SOCK_RAW, IPPROTO_TCP), "raw");
            assertEquals(EPERM, outcome(FILTER, "socket", family, SOCK_DGRAM, family == AF_INET ? 1 : 58), "ping");
        }
    }

    @Test
    void unixSocketsOfAnyTypeAndNetlinkOnlyForRoutesAndAudit() {
        for (long type : List.of(SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM | SOCK_CLOEXEC)) {
            assertEquals(ALLOWED, outcome(FILTER, "socket", AF_UNIX, type, 0));
        }
        assertEquals(EPERM, outcome(FILTER, "socket", AF_UNIX, SOCK_STREAM, 1), "PF_UNIX as the protocol");
        for (long protocol = 0; protocol <= 32; protocol++) {
            assertEquals(protocol == NETLINK_ROUTE || protocol == NETLINK_AUDIT ? ALLOWED : EPERM,
                    outcome(FILTER, "socket", AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol), "netlink protocol " + protocol);
        }
        assertEquals(EPERM, outcome(FILTER, "socket", AF_NETLINK, SOCK_DGRAM, NETLINK_KOBJECT_UEVENT),
                "the host's device events");
    }

    @Test
    void eachSocketRuleHasItsConditionsOnDistinctArguments() {
        List<Spec.SeccompSyscall> rules = rulesFor("socket");
        assertEquals(11, rules.size());
        for (Spec.SeccompSyscall rule : rules) {
            assertEquals(rule.args().size(), rule.args().stream().map(Spec.SeccompArg::index).distinct().count(),
                    "runc ORs conditions on one argument: " + rule);
        }
    }

    @Test
    void socketPairsOnlyOfUnixSockets() {
        assertEquals(ALLOWED, outcome(FILTER, "socketpair", 1));
        assertEquals(EPERM, outcome(FILTER, "socketpair", 2));
        assertEquals(EPERM, outcome(FILTER, "socketpair", 40));
    }

    @Test
    void cloneWithoutNamespaceFlagsOnly() {
        List<Spec.SeccompSyscall> rules = rulesFor("clone");
        assertEquals(List.of(new Spec.SeccompArg(0, 0x7E02_0000L, 0, SeccompPolicy.MASKED_EQUAL)),
                rules.stream().flatMap(rule -> rule.args().stream()).toList());

        long threadFlags = 0x3D0F00;
        long forkFlags = 0x1200000 | SIGCHLD;
        assertEquals(ALLOWED, outcome(FILTER, "clone", threadFlags));
        assertEquals(ALLOWED, outcome(FILTER, "clone", forkFlags));
        for (long namespace : List.of(CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
                CLONE_NEWPID, CLONE_NEWNET)) {
            assertEquals(EPERM, outcome(FILTER, "clone", forkFlags | namespace), Long.toHexString(namespace));
            assertEquals(EPERM, outcome(FILTER, "clone", forkFlags | namespace | 0xFFFF_FFFF_0000_0000L),
                    Long.toHexString(namespace) + " with high bits set");
        }
    }

    @Test
    void ioctlExceptTerminalInjection() {
        assertTrue(rulesFor("ioctl").stream()
                .allMatch(rule -> rule.args().size() == 1 && rule.args().get(0).index() == 1
                        && rule.args().get(0).op().equals(SeccompPolicy.MASKED_EQUAL)
                        && (rule.args().get(0).value() >>> 32) == 0));

        for (long command : List.of(TIOCSTI, TIOCLINUX)) {
            assertEquals(EPERM, outcome(FILTER, "ioctl", 0, command));
            assertEquals(EPERM, outcome(FILTER, "ioctl", 0, command | 1L << 32), "the kernel ignores the high bits");
            assertEquals(EPERM, outcome(FILTER, "ioctl", 0, command | 0xFFFF_FFFF_0000_0000L));
        }
        long tcgets = 0x5401;
        long tiocgwinsz = 0x5413;
        long tiocgptn = 0x8004_5430L;
        for (long command : List.of(tcgets, tiocgwinsz, TIOCSTI - 1, TIOCLINUX - 1, TIOCLINUX + 1, tiocgptn,
                tiocgptn | 0xFFFF_FFFF_0000_0000L)) {
            assertEquals(ALLOWED, outcome(FILTER, "ioctl", 0, command), Long.toHexString(command));
        }
        Random random = new Random(42);
        for (int i = 0; i < 20_000; i++) {
            long command = random.nextLong();
            long low = command & 0xFFFF_FFFFL;
            assertEquals(low == TIOCSTI || low == TIOCLINUX ? EPERM : ALLOWED, outcome(FILTER, "ioctl", 0, command));
        }
    }

    @Test
    void personalityOnlyTheHarmlessValues() {
        Set<Long> harmless = Set.of(0x0L, 0x8L, 0x20000L, 0x20008L, 0xFFFF_FFFFL);
        LongStream.of(0x0, 0x8, 0x20000, 0x20008, 0xFFFF_FFFFL, 0x40000, 0x400000, 0x100000, 0x0040008, 0x1)
                .forEach(persona -> assertEquals(harmless.contains(persona) ? ALLOWED : EPERM,
                        outcome(FILTER, "personality", persona), Long.toHexString(persona)));
    }

    static Stream<Arguments> malformedProfiles() {
        return Stream.of(
                malformed("a default other than EPERM", p -> p.put("defaultErrno", "ENOSYS"),
                        "defaultErrno must be EPERM, not ENOSYS"),
                malformed("an unknown errno", p -> denied(p, 1).put("errno", "EWHAT"),
                        "unknown errno EWHAT"),
                malformed("an errno repeating the default", p -> denied(p, 1).put("errno", "EPERM"),
                        "errno EPERM is the default already"),
                malformed("an action: the format has none besides errno", p -> denied(p, 1).put("action", "SCMP_ACT_KILL"),
                        "unknown field denied[1].action; known there: [errno, names, reason]"),
                malformed("an op: the format has none besides mask", p -> conditional(p, 0).put("op", "SCMP_CMP_NE"),
                        "unknown field conditional[0].op; known there: [allowAllExcept, allowCombinations, allowOnly, argument, mask, names, reason]"),
                malformed("a syscall in two groups", p -> names(allowed(p, 3)).add("read"),
                        "syscall read appears in both allowed group 'files and directories' and allowed group 'memory'"),
                malformed("a syscall both allowed and denied", p -> names(allowed(p, 0)).add("ptrace"),
                        "syscall ptrace appears in both allowed group 'files and directories' and denied"),
                malformed("a syscall both allowed and conditional", p -> names(allowed(p, 0)).add("ioctl"),
                        "syscall ioctl appears in both allowed group 'files and directories' and conditional rule for ioctl"),
                malformed("empty names", p -> allowed(p, 2).putArray("names"),
                        "allowed group 'mount information': names must list at least one syscall"),
                malformed("a blank name", p -> names(denied(p, 1)).add(""), "'' is not a syscall name"),
                malformed("a name listed twice", p -> names(allowed(p, 2)).add("statmount"), "statmount is listed twice"),
                malformed("a missing reason", p -> allowed(p, 0).remove("reason"),
                        "allowed group 'files and directories': reason is missing"),
                malformed("an argument index past the sixth", p -> conditional(p, 1).put("argument", 6),
                        "argument must be an index from 0 to 5, not 6"),
                malformed("allowAllExcept without a mask", p -> conditional(p, 3).remove("mask"),
                        "allowAllExcept needs a mask"),
                malformed("both value lists", p -> conditional(p, 1).set("allowAllExcept", conditional(p, 1).get("allowOnly")),
                        "give exactly one of allowOnly, allowAllExcept and allowCombinations"),
                malformed("no value list", p -> conditional(p, 1).remove("allowOnly"),
                        "give exactly one of allowOnly, allowAllExcept and allowCombinations"),
                malformed("combinations and the rule's own argument", p -> conditional(p, 0).put("argument", 0),
                        "allowCombinations names the argument and mask of each condition"),
                malformed("two conditions on one argument of a combination",
                        p -> conditionsOf(p, 0).add(((ObjectNode) conditionsOf(p, 0).get(0).deepCopy()).put("value", "10")),
                        "combination 'AF_UNIX, any type, protocol 0': argument 0 has two conditions"),
                malformed("a combination listed twice",
                        p -> combinations(p).add(((ObjectNode) combinations(p).get(1).deepCopy()).put("name", "again")),
                        "'again' repeats an earlier combination"),
                malformed("a condition's value outside its mask", p -> ((ObjectNode) conditionsOf(p, 1).get(1)).put("value", "0x80"),
                        "condition on argument 1: 0x80 has bits outside the mask 0xF"),
                malformed("a combination without conditions", p -> ((ObjectNode) combinations(p).get(0)).putArray("arguments"),
                        "combination 'AF_UNIX, any type, protocol 0': arguments must not be empty"),
                malformed("a value outside the mask", p -> value(conditional(p, 2), 0).put("value", "0x80000000"),
                        "has bits outside the mask 0x7E020000"),
                malformed("a value that is not a number", p -> value(conditional(p, 1), 0).put("value", "AF_UNIX"),
                        "'AF_UNIX' is not a decimal or 0x-hexadecimal number"),
                malformed("a value listed twice", p -> values(conditional(p, 1)).add(value(conditional(p, 1), 0).deepCopy()),
                        "allowOnly: 1 is listed twice"),
                malformed("a mask of zero", p -> conditional(p, 2).put("mask", "0x0"), "a mask of 0 compares nothing"),
                malformed("an unknown seccomp architecture", p -> architecture(p, 0).put("seccompArch", "SCMP_ARCH_X86_46"),
                        "amd64 maps to unknown seccomp architecture SCMP_ARCH_X86_46"),
                malformed("a host architecture mapped twice",
                        p -> ((ArrayNode) p.get("architectures")).add(architecture(p, 0).deepCopy()), "amd64 is mapped twice"),
                malformed("no allowed groups", p -> p.putArray("allowed"), "allowed must not be empty"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedProfiles")
    void malformedProfilesAreRefusedNamingFileAndProblem(String problem, Consumer<ObjectNode> damage, String expected,
                                                         @TempDir Path dir) throws IOException {
        ObjectNode profile = (ObjectNode) Json.mapper().readTree(SHIPPED.toFile());
        damage.accept(profile);
        Path file = dir.resolve("profile.json");
        Files.writeString(file, Json.write(profile));

        UserInputException e = assertThrows(UserInputException.class, () -> SeccompPolicy.load(file));

        assertTrue(e.getMessage().startsWith("invalid seccomp profile " + file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().contains("(line "), e.getMessage());
        assertTrue(e.hint().contains("seccomp_profile"), e.hint());
    }

    @Test
    void truncatedJsonIsRefused(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("truncated.json");
        Files.writeString(file, "{\"defaultErrno\": \"EPERM\", \"allowed\": [");

        UserInputException e = assertThrows(UserInputException.class, () -> SeccompPolicy.load(file));

        assertTrue(e.getMessage().startsWith("invalid seccomp profile " + file + ": Unexpected end-of-input"), e.getMessage());
    }

    @Test
    void anEmptyFileIsRefused(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("empty.json");
        Files.writeString(file, "");

        UserInputException e = assertThrows(UserInputException.class, () -> SeccompPolicy.load(file));

        assertTrue(e.getMessage().startsWith("invalid seccomp profile " + file + ": "), e.getMessage());
    }

    @Test
    void aMissingFileIsRefused(@TempDir Path dir) {
        Path file = dir.resolve("absent.json");

        UserInputException e = assertThrows(UserInputException.class, () -> SeccompPolicy.load(file));

        assertTrue(e.getMessage().startsWith("cannot read seccomp profile " + file), e.getMessage());
    }

    @Test
    void aValidUserProfileLoads(@TempDir Path dir) throws IOException {
        ObjectNode profile = (ObjectNode) Json.mapper().readTree(SHIPPED.toFile());
        names(denied(profile, 1)).add("getcpu");
        removeName(allowed(profile, 4), "getcpu");
        Path file = dir.resolve("stricter.json");
        Files.writeString(file, Json.write(profile));

        Spec.Seccomp filter = SeccompPolicy.load(file).toOci("amd64");

        assertEquals(EPERM, outcome(filter, "getcpu"));
        assertEquals(ALLOWED, outcome(filter, "getpid"));
    }

    /**
     * What libseccomp 2.5 builds from the rules of one call: an unconditional rule wins over any
     * argument rule, else the first argument rule that matches, else the default action.
     */
    static String outcome(Spec.Seccomp filter, String syscall, long... args) {
        List<Spec.SeccompSyscall> rules = filter.syscalls().stream()
                .filter(rule -> rule.names().contains(syscall))
                .toList();
        Spec.SeccompSyscall chosen = rules.stream()
                .filter(rule -> rule.args() == null)
                .findFirst()
                .orElseGet(() -> rules.stream()
                        .filter(rule -> rule.args().stream().allMatch(condition -> matches(condition, args)))
                        .findFirst()
                        .orElse(null));
        if (chosen == null) {
            return "ERRNO " + filter.defaultErrnoRet();
        }
        return chosen.action().equals(SeccompPolicy.ALLOW) ? ALLOWED : "ERRNO " + chosen.errnoRet();
    }

    private static boolean matches(Spec.SeccompArg condition, long[] args) {
        long argument = condition.index() < args.length ? args[condition.index()] : 0;
        return switch (condition.op()) {
            case SeccompPolicy.EQUAL -> argument == condition.value();
            case SeccompPolicy.MASKED_EQUAL -> (argument & condition.value()) == condition.valueTwo();
            default -> throw new IllegalArgumentException("the converter never writes " + condition.op());
        };
    }

    private static List<Spec.SeccompSyscall> rulesFor(String syscall) {
        return FILTER.syscalls().stream().filter(rule -> rule.names().contains(syscall)).toList();
    }

    private static Set<String> namesOf(Stream<Spec.SeccompSyscall> rules) {
        return rules.flatMap(rule -> rule.names().stream()).collect(Collectors.toSet());
    }

    private static Arguments malformed(String problem, Consumer<ObjectNode> damage, String expected) {
        return Arguments.of(problem, damage, expected);
    }

    private static ObjectNode allowed(ObjectNode profile, int index) {
        return (ObjectNode) profile.get("allowed").get(index);
    }

    private static ObjectNode conditional(ObjectNode profile, int index) {
        return (ObjectNode) profile.get("conditional").get(index);
    }

    private static ObjectNode denied(ObjectNode profile, int index) {
        return (ObjectNode) profile.get("denied").get(index);
    }

    private static ObjectNode architecture(ObjectNode profile, int index) {
        return (ObjectNode) profile.get("architectures").get(index);
    }

    private static ArrayNode names(ObjectNode entry) {
        return (ArrayNode) entry.get("names");
    }

    /** The socket rule's combinations. */
    private static ArrayNode combinations(ObjectNode profile) {
        return (ArrayNode) conditional(profile, 0).get("allowCombinations");
    }

    private static ArrayNode conditionsOf(ObjectNode profile, int combination) {
        return (ArrayNode) combinations(profile).get(combination).get("arguments");
    }

    private static ArrayNode values(ObjectNode rule) {
        return (ArrayNode) rule.get("allowOnly");
    }

    private static ObjectNode value(ObjectNode rule, int index) {
        return (ObjectNode) values(rule).get(index);
    }

    private static void removeName(ObjectNode entry, String name) {
        ArrayNode names = names(entry);
        for (int i = 0; i < names.size(); i++) {
            if (names.get(i).asText().equals(name)) {
                names.remove(i);
                return;
            }
        }
        throw new IllegalArgumentException(name + " is not in " + entry.get("group"));
    }
}
