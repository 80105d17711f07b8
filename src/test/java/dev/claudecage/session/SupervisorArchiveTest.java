package dev.claudecage.session;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SupervisorArchiveTest {

    @Test
    void theFirstSupervisorOfAJarListsItsClassesAndALaterOneMapsTheArchive(@TempDir Path dir) throws Exception {
        Path jar = Files.writeString(dir.resolve("claude-cage-0123456789abcdef.jar"), "pretend jar");
        List<String> first = SupervisorArchive.of(jar).jvmFlags();
        assertEquals(1, first.size(), first.toString());
        assertTrue(first.get(0).startsWith("-XX:DumpLoadedClassList=" + dir.resolve("claude-cage-0123456789abcdef.classlist.tmp-")),
                first.toString());

        Files.writeString(dir.resolve("claude-cage-0123456789abcdef.classlist"), "java/lang/Object id: 0\n");
        assertEquals(List.of(), SupervisorArchive.of(jar).jvmFlags(), "a list but no archive yet: the dump is under way");

        SupervisorArchive archive = SupervisorArchive.of(jar);
        Files.writeString(archive.archive(), "pretend archive");
        assertEquals(List.of("-XX:SharedArchiveFile=" + archive.archive(), "-Xlog:cds=off", "-Xlog:cds+dynamic=off"),
                SupervisorArchive.of(jar).jvmFlags());
        assertEquals("claude-cage-0123456789abcdef.jar", SupervisorArchive.jarNameOf(archive.archive().getFileName().toString()),
                "gc keeps a jar's archive while the jar is in use, and removes it with the jar");
    }

    @Test
    void theDumpGetsWholeLinesOnceWithoutCommentsOrRuntimeProxies() {
        String listed = "# NOTE: Do not modify this file.\njava/lang/Object id: 0\ncom/sun/proxy/$Proxy3 id: 9\n"
                + "@lambda-proxy a/B c\n@lambda-proxy a/B c\njava/lang/Str";
        assertEquals("java/lang/Object id: 0\n@lambda-proxy a/B c\n",
                new String(SupervisorArchive.dumpable(listed.getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8));
    }
}
