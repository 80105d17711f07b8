package dev.claudecage.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MountSpecTest {

    @Test
    void mountsAreReadWriteUnlessMarkedReadOnly() {
        assertEquals(new MountSpec(Path.of("/src"), "/work", false), MountSpec.parse("/src:/work"));
        assertEquals(new MountSpec(Path.of("/src"), "/work", false), MountSpec.parse("/src:/work:rw"));
        assertEquals(new MountSpec(Path.of("/src"), "/work", true), MountSpec.parse("/src:/work:ro"));
    }

    @Test
    void keepsARelativeSourceAsWrittenForTheLoaderToResolve() {
        assertEquals(Path.of("data"), MountSpec.parse("data:/data:ro").source());
    }

    @Test
    void formatAlwaysNamesTheModeAndParsesBack() {
        MountSpec spec = new MountSpec(Path.of("/home/u/project"), "/work", true);
        assertEquals("/home/u/project:/work:ro", spec.format());
        assertEquals(spec, MountSpec.parse(spec.format()));
    }

    @ParameterizedTest(name = "''{0}'' {1}")
    @CsvSource(delimiter = '|', value = {
            "/src                | is not HOST:CAGE",
            "/a:/b:ro:x          | is not HOST:CAGE",
            ":/work              | has an empty host path",
            "/src:/work:rx       | has mode 'rx', not ro or rw",
            "/src:work           | has a relative cage path 'work'",
            "/src:/              | has the cage's root '/'",
            "/src:/work/../etc   | is not normalized",
            "/src:/work/         | is not normalized",
            "/src:/a//b          | is not normalized",
            "/src:/proc          | in /proc",
            "/src:/proc/sys/kernel | in /proc",
            "/src:/sys/fs/cgroup | in /sys",
            "/src:/dev           | in /dev",
            "/src:/dev/shm       | in /dev"})
    void refusesBadMounts(String text, String problem) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MountSpec.parse(text));
        assertTrue(e.getMessage().contains(problem), e.getMessage());
    }

    @Test
    void aPathThatOnlyStartsLikeProcIsFine() {
        assertEquals("/process", MountSpec.parse("/src:/process").target());
    }
}
