package dev.claudecage.config;

import dev.claudecage.cli.CageOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.OptionSpec;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The policy flags of run and verify are the top config layer, under the names ConfigKey gives them. */
class PolicyFlagsTest {

    @Command(name = "test")
    static final class CommandWithPolicyFlags {
        @Mixin
        CageOptions options;
    }

    @TempDir
    Path dir;

    private static CageOptions parse(String... args) {
        CommandWithPolicyFlags command = new CommandWithPolicyFlags();
        new CommandLine(command).parseArgs(args);
        return command.options;
    }

    @Test
    void onlyTheFlagsGivenBecomeValues() {
        assertEquals(Map.of(), parse().asFlags());
        assertEquals(Map.of("memory", "2g", "mounts", List.of("/a:/work", "/b:/data:ro"), "env", List.of("A=1,2")),
                parse("--memory", "2g", "--mount", "/a:/work", "--mount", "/b:/data:ro", "-e", "A=1,2").asFlags());
    }

    @Test
    void eachFlagSetsTheKeyWhoseFlagNameItHas() {
        List<OptionSpec> options = new CommandLine(new CommandWithPolicyFlags()).getCommandSpec().options();
        assertEquals(39, options.size());
        for (OptionSpec option : options) {
            if (option.longestName().equals("--env-file")) {
                continue; // docker's --env-file has no key of its own: its lines join env (DockerHabitsTest)
            }
            // A switch (--ssh-agent, --allow-unlimited, --no-healthcheck) takes no value.
            Map<String, Object> flags = (option.arity().max() == 0 ? parse(option.longestName())
                    : parse(option.longestName(), "x=1")).asFlags();
            assertEquals(1, flags.size(), option.longestName());
            String yamlName = flags.keySet().iterator().next();
            assertEquals(option.longestName(), ConfigKey.fromYamlName(yamlName).orElseThrow().flagName());
        }
    }

    @Test
    void dockersShortFlagsAreTheSameOptions() {
        Map<String, OptionSpec> byName = new CommandLine(new CommandWithPolicyFlags()).getCommandSpec().optionsMap();
        assertSame(byName.get("--mount"), byName.get("-v"));
        assertSame(byName.get("--env"), byName.get("-e"));
        assertSame(byName.get("--workdir"), byName.get("-w"));
        assertEquals(parse("--mount", "/a:/work").asFlags(), parse("-v", "/a:/work").asFlags());
    }

    @Test
    void flagsGivenOnTheCommandLineWinAndNameTheirFlag() {
        Path project = new ConfigFixture(dir).directory("project");
        ConfigFixture fixture = new ConfigFixture(dir).user("allowed_hosts: [a.example.com]\nmemory: 1g\n");

        EffectiveConfig effective = fixture.loader().load(parse("--allowed-host", "b.example.com",
                "--mount", project + ":/work:ro", "--cpus", "0.5").asFlags());

        assertEquals(List.of("b.example.com"), effective.config().allowedHosts());
        assertEquals(List.of(new MountSpec(project, "/work", true)), effective.config().mounts());
        assertEquals(0.5, effective.config().cpus());
        assertEquals("flag --allowed-host", effective.origin(ConfigKey.ALLOWED_HOSTS));
        assertEquals("flag --mount", effective.origin(ConfigKey.MOUNTS));
        assertEquals("flag --cpus", effective.origin(ConfigKey.CPUS));
        assertEquals(fixture.userFile.toString(), effective.origin(ConfigKey.MEMORY));
    }
}
