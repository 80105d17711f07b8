package dev.claudecage.security;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import dev.claudecage.CageException;
import dev.claudecage.UserInputException;
import dev.claudecage.json.Json;
import dev.claudecage.oci.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * claude-cage's seccomp policy in its own format ({@code security/seccomp-default.json}): an
 * allowlist grouped by purpose, argument rules that allow a call only for some values, and the
 * calls denied on purpose, each with its reason. Everything not allowed fails with EPERM.
 * {@link #toOci} turns it into the OCI {@code linux.seccomp} form that runc and crun load.
 */
public record SeccompPolicy(String description, String defaultErrno, List<Architecture> architectures,
                            List<AllowedGroup> allowed, List<ArgumentRule> conditional, List<Denial> denied) {

    /** The class the build generates from security/seccomp-default.json, in this package. */
    private static final String GENERATED = SeccompPolicy.class.getPackageName() + ".GeneratedSeccompDefault";
    private static final String HINT = "fix the profile, or set seccomp_profile to default; "
            + "security/seccomp-default.json and security/README.md describe the format";
    private static final String REQUIRED_DEFAULT_ERRNO = "EPERM";
    private static final Map<String, Integer> ERRNOS = Map.of("EPERM", 1, "ENOSYS", 38);
    private static final Set<String> SECCOMP_ARCHES = Set.of("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
            "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32",
            "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
            "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_RISCV64");
    private static final Pattern SYSCALL_NAME = Pattern.compile("[a-z_][a-z0-9_]*");
    private static final int MAX_ARGUMENT = 5;

    static final String ALLOW = "SCMP_ACT_ALLOW";
    static final String ERRNO = "SCMP_ACT_ERRNO";
    static final String EQUAL = "SCMP_CMP_EQ";
    static final String MASKED_EQUAL = "SCMP_CMP_MASKED_EQ";

    public SeccompPolicy {
        if (!REQUIRED_DEFAULT_ERRNO.equals(defaultErrno)) {
            throw new IllegalArgumentException("defaultErrno must be " + REQUIRED_DEFAULT_ERRNO + ", not " + defaultErrno
                    + ": a refused call must read as 'not permitted', not as a kernel feature that is missing"
                    + " or broken, which sends programs down fallback paths");
        }
        architectures = nonEmpty(architectures, "architectures");
        allowed = nonEmpty(allowed, "allowed");
        conditional = elements(conditional == null ? List.of() : conditional, "conditional");
        denied = elements(denied == null ? List.of() : denied, "denied");
        requireUniqueHostArches(architectures);
        requireEachSyscallOnce(allowed, conditional, denied);
        for (Denial denial : denied) {
            if (defaultErrno.equals(denial.errno())) {
                throw new IllegalArgumentException("denied " + denial.names() + ": errno " + denial.errno()
                        + " is the default already; leave it out (runc drops rules that repeat the default)");
            }
        }
    }

    /** The shipped profile, made once per process: it is immutable. */
    private static SeccompPolicy shipped;

    /**
     * The profile shipped in the jar, {@code security/seccomp-default.json}, made in code rather than
     * parsed on every start: the build reads the file with {@link #load}, as the launcher did, and
     * writes the records' constructor calls ({@code src/build/java}, {@code SeccompDefaultGenerator},
     * run by {@code pom.xml}), which check the profile again when they run; {@code SeccompGoldenTest}
     * compares the two. Parsing it with Jackson's mapper kept {@code run} waiting about 70 ms for
     * its start-up thread (cli/Prewarm), and needed the mapper's deserializers on no other path.
     */
    public static synchronized SeccompPolicy defaultPolicy() {
        if (shipped == null) {
            shipped = generated();
        }
        return shipped;
    }

    private static SeccompPolicy generated() {
        try {
            return (SeccompPolicy) Class.forName(GENERATED).asSubclass(Supplier.class).getDeclaredConstructor()
                    .newInstance().get();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("this claude-cage.jar lacks its generated seccomp profile (" + GENERATED
                    + "): build it with 'mvn package' or 'make build', which generate it", e);
        }
    }

    /** A profile written by the user, in the same format as the default one. */
    public static SeccompPolicy load(Path file) {
        String json;
        try {
            json = Files.readString(file);
        } catch (IOException e) {
            throw new UserInputException("cannot read seccomp profile " + file + ": " + e.getMessage(), HINT);
        }
        return parse(json, file.toString());
    }

    private static SeccompPolicy parse(String json, String source) {
        try {
            SeccompPolicy policy = Json.mapper().readValue(json, SeccompPolicy.class);
            if (policy == null) {
                throw new UserInputException("invalid seccomp profile " + source + ": the file holds no profile", HINT);
            }
            return policy;
        } catch (JsonProcessingException e) {
            throw new UserInputException("invalid seccomp profile " + source + ": " + problem(e), HINT);
        }
    }

    private static String problem(JsonProcessingException e) {
        String what;
        if (e instanceof ValueInstantiationException && e.getCause() instanceof IllegalArgumentException) {
            what = e.getCause().getMessage();
        } else if (e instanceof UnrecognizedPropertyException unknown) {
            what = "unknown field " + path(unknown) + "; known there: "
                    + new TreeSet<>(unknown.getKnownPropertyIds().stream().map(String::valueOf).toList());
        } else {
            what = e.getOriginalMessage();
        }
        JsonLocation at = e.getLocation();
        return at == null || at.getLineNr() < 1 ? what : what + " (line " + at.getLineNr() + ")";
    }

    /** Where in the file, as in {@code conditional[3].op}. */
    private static String path(JsonMappingException e) {
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference step : e.getPath()) {
            if (step.getFieldName() != null) {
                path.append(path.length() == 0 ? "" : ".").append(step.getFieldName());
            } else {
                path.append('[').append(step.getIndex()).append(']');
            }
        }
        return path.toString();
    }

    /**
     * The OCI form for a host whose {@code os.arch} is {@code hostArch}, rules in file order:
     * allowed groups, then argument rules, then denials whose errno differs from the default
     * (the others are the default action already).
     */
    public Spec.Seccomp toOci(String hostArch) {
        Architecture architecture = architectures.stream()
                .filter(candidate -> candidate.hostArch().equals(hostArch))
                .findFirst()
                .orElseThrow(() -> new CageException("no seccomp architecture mapping for " + hostArch,
                        "the seccomp profile maps " + architectures.stream().map(Architecture::hostArch).toList()
                                + "; add this machine's architecture to its architectures"));
        List<Spec.SeccompSyscall> syscalls = new ArrayList<>();
        for (AllowedGroup group : allowed) {
            syscalls.add(new Spec.SeccompSyscall(group.names(), ALLOW, null, null));
        }
        for (ArgumentRule rule : conditional) {
            syscalls.addAll(rule.toOci());
        }
        for (Denial denial : denied) {
            if (denial.errno() != null) {
                syscalls.add(new Spec.SeccompSyscall(denial.names(), ERRNO, ERRNOS.get(denial.errno()), null));
            }
        }
        return new Spec.Seccomp(ERRNO, ERRNOS.get(defaultErrno), List.of(architecture.seccompArch()), syscalls);
    }

    /** Which native seccomp architecture a host gets; the reason says why no other ABI is admitted. */
    public record Architecture(String hostArch, String seccompArch, String reason) {
        public Architecture {
            requireText(hostArch, "architectures: hostArch");
            if (!SECCOMP_ARCHES.contains(seccompArch)) {
                throw new IllegalArgumentException("architectures: " + hostArch + " maps to unknown seccomp architecture "
                        + seccompArch + "; known: " + new TreeSet<>(SECCOMP_ARCHES));
            }
            requireText(reason, "architectures: " + hostArch + ": reason");
        }
    }

    /** System calls allowed whatever their arguments. */
    public record AllowedGroup(String group, String reason, List<String> names) {
        public AllowedGroup {
            requireText(group, "allowed: group");
            requireText(reason, "allowed group '" + group + "': reason");
            names = syscallNames(names, "allowed group '" + group + "'");
        }
    }

    /**
     * System calls allowed only for some arguments: for values of one {@code argument}, exactly
     * {@code allowOnly} or anything but {@code allowAllExcept}; or, over several arguments, any of
     * {@code allowCombinations}. With a {@code mask}, only the masked bits are compared (the mask
     * covers the bits the kernel reads); without one, all 64 bits must be equal, so a value with
     * stray high bits is refused rather than let through.
     */
    public record ArgumentRule(List<String> names, String reason, Integer argument, String mask,
                               List<ArgumentValue> allowOnly, List<ArgumentValue> allowAllExcept,
                               List<Combination> allowCombinations) {
        public ArgumentRule {
            names = syscallNames(names, "conditional rule");
            String where = "conditional rule for " + String.join(", ", names);
            requireText(reason, where + ": reason");
            int lists = (allowOnly == null ? 0 : 1) + (allowAllExcept == null ? 0 : 1) + (allowCombinations == null ? 0 : 1);
            if (lists != 1) {
                throw new IllegalArgumentException(where + ": give exactly one of allowOnly, allowAllExcept and allowCombinations");
            }
            if (allowCombinations != null) {
                if (argument != null || mask != null) {
                    throw new IllegalArgumentException(where + ": allowCombinations names the argument and mask of each"
                            + " condition; leave out the rule's own argument and mask");
                }
                allowCombinations = combinations(allowCombinations, where + ": allowCombinations");
            } else {
                requireArgumentIndex(argument, where);
                requireNonZeroMask(mask, where);
                if (allowAllExcept != null && mask == null) {
                    throw new IllegalArgumentException(where + ": allowAllExcept needs a mask naming the bits the kernel"
                            + " reads, or values differing only in ignored bits would get through");
                }
                allowOnly = allowOnly == null ? null : values(allowOnly, mask, where + ": allowOnly");
                allowAllExcept = allowAllExcept == null ? null : values(allowAllExcept, mask, where + ": allowAllExcept");
            }
        }

        /**
         * One OCI rule per allowed value, value pattern or combination: runc ORs separate rules, and
         * ANDs the conditions of one rule only when each is on a different argument.
         */
        List<Spec.SeccompSyscall> toOci() {
            List<List<Spec.SeccompArg>> alternatives = new ArrayList<>();
            if (allowOnly != null) {
                for (ArgumentValue value : allowOnly) {
                    alternatives.add(List.of(comparison(argument, mask, value.number())));
                }
            } else if (allowAllExcept != null) {
                List<Long> excluded = allowAllExcept.stream().map(ArgumentValue::number).toList();
                for (SeccompMaskedValue pattern : SeccompMaskedValue.complement(parseNumber(mask, "mask"), excluded)) {
                    alternatives.add(List.of(new Spec.SeccompArg(argument, pattern.mask(), pattern.value(), MASKED_EQUAL)));
                }
            } else {
                for (Combination combination : allowCombinations) {
                    alternatives.add(combination.arguments().stream()
                            .map(condition -> comparison(condition.argument(), condition.mask(), condition.number()))
                            .toList());
                }
            }
            return alternatives.stream()
                    .map(conditions -> new Spec.SeccompSyscall(names, ALLOW, null, conditions))
                    .toList();
        }

        private static Spec.SeccompArg comparison(int argument, String mask, long value) {
            return mask == null
                    ? new Spec.SeccompArg(argument, value, 0, EQUAL)
                    : new Spec.SeccompArg(argument, parseNumber(mask, "mask"), value, MASKED_EQUAL);
        }
    }

    /**
     * Arguments allowed together: every condition must hold. Each is on an argument of its own,
     * since runc and crun turn two conditions on one argument into two rules, either of which allows.
     */
    public record Combination(String name, List<ArgumentCondition> arguments) {
        public Combination {
            requireText(name, "combination: name");
            arguments = nonEmpty(arguments, "combination '" + name + "': arguments");
            Set<Integer> seen = new HashSet<>();
            for (ArgumentCondition condition : arguments) {
                if (!seen.add(condition.argument())) {
                    throw new IllegalArgumentException("combination '" + name + "': argument " + condition.argument()
                            + " has two conditions; runc and crun would allow either, not both");
                }
            }
        }
    }

    /** One argument of a {@link Combination}: equal to {@code value}, in all 64 bits or under {@code mask}. */
    public record ArgumentCondition(Integer argument, String mask, String value) {
        public ArgumentCondition {
            String where = "condition on argument " + argument;
            requireArgumentIndex(argument, where);
            requireNonZeroMask(mask, where);
            long number = parseNumber(value, where + ": value");
            if (mask != null && (number & ~parseNumber(mask, where + ": mask")) != 0) {
                throw new IllegalArgumentException(where + ": " + value + " has bits outside the mask " + mask
                        + ", so it can never match");
            }
        }

        long number() {
            return parseNumber(value, "value");
        }
    }

    /** An argument value: decimal or 0x-prefixed hexadecimal, with the constant's name for readers. */
    public record ArgumentValue(String name, String value) {
        public ArgumentValue {
            requireText(name, "argument value " + value + ": name");
            parseNumber(value, "argument value " + name);
        }

        public long number() {
            return SeccompPolicy.parseNumber(value, name);
        }
    }

    /**
     * System calls refused on purpose. They fail with the default errno anyway; the entry records
     * why, and {@code errno} names a different one where programs need it (clone3: ENOSYS).
     */
    public record Denial(List<String> names, String reason, String errno) {
        public Denial {
            names = syscallNames(names, "denied entry");
            requireText(reason, "denied " + names + ": reason");
            if (errno != null && !ERRNOS.containsKey(errno)) {
                throw new IllegalArgumentException("denied " + names + ": unknown errno " + errno
                        + "; known: " + new TreeSet<>(ERRNOS.keySet()));
            }
        }
    }

    private static void requireUniqueHostArches(List<Architecture> architectures) {
        Set<String> seen = new HashSet<>();
        for (Architecture architecture : architectures) {
            if (!seen.add(architecture.hostArch())) {
                throw new IllegalArgumentException("architectures: " + architecture.hostArch() + " is mapped twice");
            }
        }
    }

    /** A call in two places would make the policy depend on rule order; libseccomp does not keep it. */
    private static void requireEachSyscallOnce(List<AllowedGroup> allowed, List<ArgumentRule> conditional,
                                               List<Denial> denied) {
        Map<String, String> placeOf = new HashMap<>();
        for (AllowedGroup group : allowed) {
            claim(placeOf, group.names(), "allowed group '" + group.group() + "'");
        }
        for (ArgumentRule rule : conditional) {
            claim(placeOf, rule.names(), "conditional rule for " + String.join(", ", rule.names()));
        }
        for (Denial denial : denied) {
            claim(placeOf, denial.names(), "denied " + denial.names());
        }
    }

    private static void claim(Map<String, String> placeOf, List<String> names, String place) {
        for (String name : names) {
            String earlier = placeOf.putIfAbsent(name, place);
            if (earlier != null) {
                throw new IllegalArgumentException("syscall " + name + " appears in both " + earlier + " and " + place);
            }
        }
    }

    private static List<String> syscallNames(List<String> names, String where) {
        if (names == null || names.isEmpty()) {
            throw new IllegalArgumentException(where + ": names must list at least one syscall");
        }
        Set<String> seen = new HashSet<>();
        for (String name : names) {
            if (name == null || !SYSCALL_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException(where + ": '" + name + "' is not a syscall name");
            }
            if (!seen.add(name)) {
                throw new IllegalArgumentException(where + ": " + name + " is listed twice");
            }
        }
        return List.copyOf(names);
    }

    private static void requireArgumentIndex(Integer argument, String where) {
        if (argument == null || argument < 0 || argument > MAX_ARGUMENT) {
            throw new IllegalArgumentException(where + ": argument must be an index from 0 to " + MAX_ARGUMENT
                    + ", not " + argument);
        }
    }

    private static void requireNonZeroMask(String mask, String where) {
        if (mask != null && parseNumber(mask, where + ": mask") == 0) {
            throw new IllegalArgumentException(where + ": a mask of 0 compares nothing");
        }
    }

    private static List<Combination> combinations(List<Combination> combinations, String where) {
        combinations = nonEmpty(combinations, where);
        Set<Set<Spec.SeccompArg>> seen = new HashSet<>();
        for (Combination combination : combinations) {
            Set<Spec.SeccompArg> conditions = new HashSet<>();
            for (ArgumentCondition condition : combination.arguments()) {
                conditions.add(ArgumentRule.comparison(condition.argument(), condition.mask(), condition.number()));
            }
            if (!seen.add(conditions)) {
                throw new IllegalArgumentException(where + ": '" + combination.name() + "' repeats an earlier combination");
            }
        }
        return combinations;
    }

    private static List<ArgumentValue> values(List<ArgumentValue> values, String mask, String where) {
        values = nonEmpty(values, where);
        long bits = mask == null ? -1L : parseNumber(mask, "mask");
        Set<Long> seen = new HashSet<>();
        for (ArgumentValue value : values) {
            if ((value.number() & ~bits) != 0) {
                throw new IllegalArgumentException(where + ": " + value.name() + " = " + value.value()
                        + " has bits outside the mask " + mask + ", so it can never match");
            }
            if (!seen.add(value.number())) {
                throw new IllegalArgumentException(where + ": " + value.value() + " is listed twice");
            }
        }
        return values;
    }

    private static <T> List<T> nonEmpty(List<T> items, String where) {
        if (items == null || items.isEmpty()) {
            throw new IllegalArgumentException(where + " must not be empty");
        }
        return elements(items, where);
    }

    private static <T> List<T> elements(List<T> items, String where) {
        if (items.contains(null)) {
            throw new IllegalArgumentException(where + " holds a null entry");
        }
        return List.copyOf(items);
    }

    private static void requireText(String text, String what) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException(what + " is missing");
        }
    }

    private static long parseNumber(String text, String what) {
        if (text == null) {
            throw new IllegalArgumentException(what + ": value is missing");
        }
        try {
            return text.startsWith("0x") || text.startsWith("0X")
                    ? Long.parseUnsignedLong(text.substring(2), 16)
                    : Long.parseUnsignedLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + ": '" + text + "' is not a decimal or 0x-hexadecimal number");
        }
    }
}
