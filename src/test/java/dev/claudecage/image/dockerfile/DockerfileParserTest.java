package dev.claudecage.image.dockerfile;

import dev.claudecage.UserInputException;
import dev.claudecage.image.dockerfile.Instruction.Command.ExecForm;
import dev.claudecage.image.dockerfile.Instruction.Command.ShellForm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DockerfileParserTest {

    private static final Path FILE = Path.of("ctx/Dockerfile");

    private static Dockerfile parse(String content) {
        return DockerfileParser.parse(FILE, content);
    }

    @Test
    void readsEveryInstructionItSupports() {
        Dockerfile dockerfile = parse("""
                # syntax=docker/dockerfile:1
                ARG SUITE=bookworm
                FROM debian:${SUITE} AS base
                ENV PATH=/opt/bin:$PATH LANG="C.UTF-8"
                ENV OLD_STYLE value with spaces
                LABEL org.opencontainers.image.title="claude cage" version=1
                ARG VERSION=1.0 OTHER
                RUN apt-get update \\
                    && apt-get install -y git
                RUN ["/bin/echo", "exec", "form"]
                COPY --chown=claude:claude --chmod=0755 a.sh b.sh /usr/local/bin/
                ADD ["file with space.txt", "/opt/"]
                WORKDIR /workspace
                USER claude
                EXPOSE 6080 5900/tcp
                SHELL ["/bin/bash", "-o", "pipefail", "-c"]
                ENTRYPOINT ["/entrypoint.sh"]
                CMD claude --help
                """);
        assertEquals(1, dockerfile.globalArgs().size());
        assertEquals(new Instruction.Arg.Declaration("SUITE", "bookworm"), dockerfile.globalArgs().get(0).declarations().get(0));
        Stage stage = dockerfile.target();
        assertEquals("debian:${SUITE}", stage.from().image());
        assertEquals("base", stage.from().stageName());
        List<Instruction> body = stage.instructions();
        assertEquals(List.of("ENV", "ENV", "LABEL", "ARG", "RUN", "RUN", "COPY", "ADD", "WORKDIR", "USER", "EXPOSE", "SHELL",
                "ENTRYPOINT", "CMD"), body.stream().map(Instruction::keyword).toList());
        assertEquals(List.of(new Instruction.KeyValue("PATH", "/opt/bin:$PATH"), new Instruction.KeyValue("LANG", "\"C.UTF-8\"")),
                ((Instruction.Env) body.get(0)).pairs());
        assertEquals(List.of(new Instruction.KeyValue("OLD_STYLE", "value with spaces")), ((Instruction.Env) body.get(1)).pairs());
        assertEquals(List.of(new Instruction.Arg.Declaration("VERSION", "1.0"), new Instruction.Arg.Declaration("OTHER", null)),
                ((Instruction.Arg) body.get(3)).declarations());
        Instruction.Run run = (Instruction.Run) body.get(4);
        assertEquals(new ShellForm("apt-get update     && apt-get install -y git"), run.command());
        assertEquals(8, run.location().line());
        assertEquals(new ExecForm(List.of("/bin/echo", "exec", "form")), ((Instruction.Run) body.get(5)).command());
        Instruction.Copy copy = (Instruction.Copy) body.get(6);
        assertEquals(List.of("a.sh", "b.sh"), copy.sources());
        assertEquals("/usr/local/bin/", copy.destination());
        assertEquals("claude:claude", copy.chown());
        assertEquals("0755", copy.chmod());
        assertNull(copy.from());
        Instruction.Copy add = (Instruction.Copy) body.get(7);
        assertTrue(add.add());
        assertEquals(List.of("file with space.txt"), add.sources());
        assertEquals(List.of("6080", "5900/tcp"), ((Instruction.Expose) body.get(10)).ports());
        assertEquals(List.of("/bin/bash", "-o", "pipefail", "-c"), ((Instruction.Shell) body.get(11)).shell());
        assertEquals(new ShellForm("claude --help"), ((Instruction.Cmd) body.get(13)).command());
    }

    @Test
    void commentsAndBlankLinesInsideAContinuationAreDropped() {
        Dockerfile dockerfile = parse("""
                FROM scratch
                RUN one \\
                # a comment in the middle
                
                    two
                """);
        assertEquals(new ShellForm("one     two"), ((Instruction.Run) dockerfile.target().instructions().get(0)).command());
    }

    @Test
    void continuationToleratesTrailingWhitespaceAndEndOfFile() {
        Dockerfile dockerfile = parse("FROM scratch\nRUN a \\   \n b \\");
        assertEquals(new ShellForm("a  b"), ((Instruction.Run) dockerfile.target().instructions().get(0)).command());
    }

    @Test
    void escapeDirectiveChangesTheContinuationCharacter() {
        Dockerfile dockerfile = parse("""
                # escape=`
                FROM scratch
                COPY C:\\dir\\file.txt /x
                RUN a `
                    b
                """);
        assertEquals('`', dockerfile.escape());
        List<Instruction> body = dockerfile.target().instructions();
        assertEquals(List.of("C:\\dir\\file.txt"), ((Instruction.Copy) body.get(0)).sources());
        assertEquals(new ShellForm("a     b"), ((Instruction.Run) body.get(1)).command());
    }

    @Test
    void directivesEndAtTheFirstOtherLine() {
        Dockerfile dockerfile = parse("""
                # a comment
                # escape=`
                FROM scratch
                RUN a \\
                    b
                """);
        assertEquals('\\', dockerfile.escape(), "a directive after a comment is a comment");
    }

    /** The keyword is derived from the record's name, and it is part of every build step's cache key. */
    @Test
    void everyInstructionNamesItselfByItsDockerfileKeyword() {
        Dockerfile dockerfile = parse("""
                from scratch
                arg A
                env A=1
                label a=1
                run true
                copy a /a
                add b /b
                volume /data
                healthcheck none
                stopsignal SIGQUIT
                onbuild run true
                maintainer someone
                workdir /w
                user claude
                expose 80
                entrypoint ["/e"]
                cmd ["/c"]
                shell ["/bin/sh", "-c"]
                """);
        assertEquals("FROM", dockerfile.target().from().keyword());
        assertEquals(List.of("ARG", "ENV", "LABEL", "RUN", "COPY", "ADD", "VOLUME", "HEALTHCHECK", "STOPSIGNAL", "ONBUILD",
                        "MAINTAINER", "WORKDIR", "USER", "EXPOSE", "ENTRYPOINT", "CMD", "SHELL"),
                dockerfile.target().instructions().stream().map(Instruction::keyword).toList());
    }

    @Test
    void keywordsAreCaseInsensitive() {
        Dockerfile dockerfile = parse("from scratch as Build\nrun true\n");
        assertEquals("build", dockerfile.target().from().stageName());
        assertEquals("RUN", dockerfile.target().instructions().get(0).keyword());
    }

    @Test
    void multiStageFilesKeepTheirStagesInOrder() {
        Dockerfile dockerfile = parse("""
                FROM debian:bookworm AS builder
                RUN make
                FROM scratch
                COPY --from=builder /out /app
                COPY --from=0 /etc/passwd /etc/passwd
                """);
        assertEquals(2, dockerfile.stages().size());
        assertEquals("builder", ((Instruction.Copy) dockerfile.target().instructions().get(0)).from());
        assertEquals(0, dockerfile.stageNamed("BUILDER", 1).orElseThrow().index());
        assertEquals(0, dockerfile.stageNamed("0", 1).orElseThrow().index());
        assertTrue(dockerfile.stageNamed("builder", 0).isEmpty(), "a stage cannot see itself or later ones");
        assertTrue(dockerfile.stageNamed("debian:bookworm", 1).isEmpty());
    }

    @Test
    void crlfLineEndingsAreRead() {
        Dockerfile dockerfile = parse("FROM scratch\r\nRUN a \\\r\n  b\r\n");
        assertEquals(new ShellForm("a   b"), ((Instruction.Run) dockerfile.target().instructions().get(0)).command());
    }

    static Stream<Arguments> badDockerfiles() {
        return Stream.of(
                bad("FROM scratch\nRUNN true\n", 2, "unknown instruction 'RUNN'"),
                bad("FROM scratch\nADD git@github.com:a/b.git /x\n", 2, "ADD of a git repository is not supported"),
                bad("FROM scratch\nADD https://example.com/a/b.git /x\n", 2, "ADD of a git repository is not supported"),
                bad("FROM scratch\nADD --keep-git-dir a.txt /x\n", 2, "--keep-git-dir is for ADD of a git"),
                bad("RUN true\nFROM scratch\n", 1, "RUN comes before the first FROM; only ARG may"),
                bad("FROM scratch\nRUN --mount=type=ssh true\n", 2, "--mount=type=ssh is not supported"),
                bad("FROM scratch\nRUN --mount=type=cache true\n", 2, "--mount=type=cache needs a target"),
                bad("FROM scratch\nRUN --mount=type=bind,target=/x,id=a true\n", 2, "--mount=type=bind takes no 'id'"),
                bad("FROM scratch\nRUN --mount=type=floppy,target=/x true\n", 2, "--mount type 'floppy' is unknown"),
                bad("FROM scratch\nRUN --mount=type=cache,target=/x,sharing=all true\n", 2, "sharing='all' is none of"),
                bad("FROM scratch\nRUN --mount=type=bind,target=/x,ro=maybe true\n", 2, "is true or false, not 'maybe'"),
                bad("FROM scratch\nRUN --mount=type=secret true\n", 2, "--mount=type=secret needs an id"),
                bad("FROM scratch\nRUN --network=bridge true\n", 2, "--network=bridge is none of default, none, host"),
                bad("FROM scratch\nRUN --network=none --network=host true\n", 2, "--network is given more than once"),
                bad("FROM scratch\nRUN --security=insecure true\n", 2, "--security=insecure is not supported"),
                bad("FROM scratch\nRUN --device=/dev/fuse true\n", 2, "the flag --device is not supported; RUN takes"),
                bad("FROM scratch\nCOPY --checksum=sha256:00 a /b\n", 2, "the flag --checksum is not supported; COPY takes"),
                bad("FROM scratch\nADD --from=x a /b\n", 2, "the flag --from is not supported"),
                bad("FROM scratch\nADD --checksum=md5:1 https://example.com/a /b\n", 2, "is not sha256:HEX"),
                bad("FROM scratch\nADD --checksum=sha256:" + "a".repeat(64) + " local.txt /b\n", 2,
                        "--checksum is for one URL source"),
                bad("FROM scratch\nCOPY --link=maybe a /b\n", 2, "--link is true or false"),
                bad("FROM scratch\nCOPY --exclude a /b\n", 2, "--exclude needs a value"),
                bad("FROM scratch\nVOLUME []\n", 2, "VOLUME needs paths"),
                bad("FROM scratch\nHEALTHCHECK true\n", 2, "HEALTHCHECK takes CMD command or NONE, not 'true'"),
                bad("FROM scratch\nHEALTHCHECK CMD\n", 2, "HEALTHCHECK CMD needs a command"),
                bad("FROM scratch\nHEALTHCHECK NONE now\n", 2, "HEALTHCHECK NONE takes no arguments"),
                bad("FROM scratch\nHEALTHCHECK --interval=5 CMD true\n", 2, "is not a duration"),
                bad("FROM scratch\nHEALTHCHECK --timeout=-1s CMD true\n", 2, "--timeout cannot be negative"),
                bad("FROM scratch\nHEALTHCHECK --interval=10us CMD true\n", 2, "--interval cannot be less than 1ms"),
                bad("FROM scratch\nHEALTHCHECK --retries=-1 CMD true\n", 2, "--retries cannot be negative"),
                bad("FROM scratch\nHEALTHCHECK --retries=x CMD true\n", 2, "--retries=x is not a whole number"),
                bad("FROM scratch\nHEALTHCHECK --user=1 CMD true\n", 2, "the flag --user is not supported"),
                bad("FROM scratch\nSTOPSIGNAL TERM KILL\n", 2, "STOPSIGNAL takes exactly one argument"),
                bad("FROM scratch\nONBUILD ONBUILD RUN x\n", 2, "ONBUILD cannot trigger ONBUILD"),
                bad("FROM scratch\nONBUILD FROM x\n", 2, "ONBUILD cannot trigger FROM"),
                bad("FROM scratch\nONBUILD RUNN x\n", 2, "unknown instruction 'RUNN'"),
                bad("FROM scratch\nONBUILD RUN <<EOF\nx\nEOF\n", 2, "ONBUILD triggers with here-documents"),
                bad("FROM scratch\nRUN <<EOF\necho hi\n", 2, "the here-document <<EOF has no line 'EOF' that ends it"),
                bad("FROM scratch\nCOPY onlyone\n", 2, "COPY needs at least one source and a destination"),
                bad("FROM scratch\nCMD [\"a\", ]\n", 2, "the exec form must be a JSON array of strings"),
                bad("FROM scratch\nCMD [\"a\", 1]\n", 2, "holds 1"),
                bad("FROM scratch\nSHELL /bin/bash -c\n", 2, "SHELL takes a JSON array"),
                bad("FROM scratch\nSHELL []\n", 2, "SHELL needs at least the shell's path"),
                bad("FROM scratch\nENV\n", 2, "ENV needs arguments"),
                bad("FROM scratch\nENV A=1 B\n", 2, "'B' is not KEY=VALUE"),
                bad("FROM scratch\nENV =1\n", 2, "the key is empty"),
                bad("FROM scratch\nENV LONELY\n", 2, "ENV LONELY has no value"),
                bad("FROM scratch\nARG 1BAD\n", 2, "'1BAD' is not a valid ARG name"),
                bad("FROM scratch\nUSER a b\n", 2, "USER takes exactly one argument"),
                bad("FROM a b c d\n", 1, "FROM takes an image and an optional 'AS name'"),
                bad("FROM a AS 1st\n", 1, "'1st' is not a valid stage name"),
                bad("FROM a AS x\nFROM b AS X\n", 2, "the stage name 'x' is already taken"),
                bad("FROM scratch\nCOPY --chown a /b\n", 2, "--chown needs a value"),
                bad("# escape=x\nFROM scratch\n", 1, "the escape character must be \\ or `"),
                bad("# escape=`\n# escape=`\nFROM scratch\n", 2, "the 'escape' directive may be given only once"),
                bad("# syntax=example.com/my/frontend\nFROM scratch\n", 1, "understands only docker/dockerfile"));
    }

    private static Arguments bad(String content, int line, String problem) {
        return Arguments.of(content, line, problem);
    }

    @ParameterizedTest
    @MethodSource("badDockerfiles")
    void badDockerfilesNameTheFileLineAndInstruction(String content, int line, String problem) {
        DockerfileException error = assertThrows(DockerfileException.class, () -> parse(content));
        assertTrue(error.getMessage().startsWith("ctx/Dockerfile:" + line + ": "), error.getMessage());
        assertTrue(error.getMessage().contains(problem), error.getMessage());
    }

    @Test
    void aDockerfileWithoutFromIsBadInput() {
        UserInputException error = assertThrows(UserInputException.class, () -> parse("ARG X=1\n# nothing else\n"));
        assertEquals("ctx/Dockerfile: the Dockerfile has no FROM instruction", error.getMessage());
    }

    @Test
    void addOfAGitRepositoryExplainsWhatToDoInstead() {
        DockerfileException error = assertThrows(DockerfileException.class,
                () -> parse("FROM scratch\nADD git://example.com/a /a\n"));
        assertTrue(error.hint().contains("clone it before the build"), error.hint());
    }

    @Test
    void volumeHealthcheckStopsignalOnbuildAndMaintainerAreRead() {
        List<Instruction> body = parse("""
                FROM scratch
                VOLUME /data "/var/log app"
                VOLUME ["/cache", "/tmp/x"]
                HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=2s --start-interval=1s --retries=5 \
                    CMD curl -f http://localhost/ || exit 1
                HEALTHCHECK CMD ["/bin/check", "--quick"]
                HEALTHCHECK none
                STOPSIGNAL SIGQUIT
                ONBUILD COPY . /app
                ONBUILD RUN --mount=type=cache,target=/root/.cache make
                MAINTAINER Jane Doe <jane@example.com>
                """).target().instructions();
        assertEquals(List.of("/data", "\"/var/log app\""), ((Instruction.Volume) body.get(0)).paths());
        assertEquals(List.of("/cache", "/tmp/x"), ((Instruction.Volume) body.get(1)).paths());
        Instruction.Healthcheck full = (Instruction.Healthcheck) body.get(2);
        assertEquals(new ShellForm("curl -f http://localhost/ || exit 1"), full.command());
        assertEquals(java.time.Duration.ofSeconds(90), full.interval());
        assertEquals(java.time.Duration.ofMillis(500), full.timeout());
        assertEquals(java.time.Duration.ofSeconds(2), full.startPeriod());
        assertEquals(java.time.Duration.ofSeconds(1), full.startInterval());
        assertEquals(5, full.retries());
        Instruction.Healthcheck exec = (Instruction.Healthcheck) body.get(3);
        assertEquals(new ExecForm(List.of("/bin/check", "--quick")), exec.command());
        assertNull(exec.interval());
        assertNull(exec.retries());
        assertNull(((Instruction.Healthcheck) body.get(4)).command(), "NONE, in any case");
        assertEquals("SIGQUIT", ((Instruction.StopSignal) body.get(5)).signal());
        Instruction.OnBuild copy = (Instruction.OnBuild) body.get(6);
        assertEquals("COPY . /app", copy.trigger());
        assertEquals(List.of("."), ((Instruction.Copy) copy.parsed()).sources());
        Instruction.OnBuild run = (Instruction.OnBuild) body.get(7);
        assertEquals(RunMount.Type.CACHE, ((Instruction.Run) run.parsed()).mounts().get(0).type());
        assertEquals("Jane Doe <jane@example.com>", ((Instruction.Maintainer) body.get(8)).name());
    }

    @Test
    void aTriggerRecordedInABaseImageIsReadWithTheBuildsEscapeCharacter() {
        Location from = new Location(FILE, 3);
        Instruction.Run run = (Instruction.Run) DockerfileParser.parseTrigger(from, "RUN --network=none make", '\\');
        assertEquals(Instruction.RunNetwork.NONE, run.network());
        assertEquals(3, run.location().line());
        DockerfileException error = assertThrows(DockerfileException.class,
                () -> DockerfileParser.parseTrigger(from, "FROM evil", '\\'));
        assertTrue(error.getMessage().startsWith("ctx/Dockerfile:3: ONBUILD FROM evil: ONBUILD cannot trigger FROM"),
                error.getMessage());
    }

    @Test
    void runReadsItsMountsNetworkAndSecurity() {
        Instruction.Run run = (Instruction.Run) parse("""
                FROM scratch
                RUN --mount=type=cache,target=/var/cache/apt,sharing=locked,id=apt \
                    --mount=type=bind,source=src,target=/src,rw \
                    --mount=target=/ctx \
                    --mount=type=tmpfs,dst=/scratch,size=64m \
                    --mount=type=secret,id=token,mode=0440,uid=1000,required \
                    --mount=type=secret,id=npmrc,target=/root/.npmrc \
                    --mount=type=cache,target=/c,uid=$UID,ro \
                    --network=none --security=sandbox make
                """).target().instructions().get(0);
        assertEquals(new ShellForm("make"), run.command());
        assertEquals(Instruction.RunNetwork.NONE, run.network());
        List<RunMount> mounts = run.mounts();
        assertEquals(new RunMount(RunMount.Type.CACHE, "/var/cache/apt", null, null, false, "apt", "locked", null, null,
                null, null, false, null), mounts.get(0));
        assertEquals(new RunMount(RunMount.Type.BIND, "/src", "src", null, false, null, null, null, null, null, null, false,
                null), mounts.get(1));
        assertEquals(new RunMount(RunMount.Type.BIND, "/ctx", null, null, true, null, null, null, null, null, null, false,
                null), mounts.get(2), "bind is the default type, read-only unless rw");
        assertEquals("64m", mounts.get(3).size());
        assertEquals(new RunMount(RunMount.Type.SECRET, "/run/secrets/token", null, null, true, "token", null, "0440",
                "1000", null, null, true, null), mounts.get(4));
        assertEquals("npmrc", mounts.get(5).id());
        assertEquals("/root/.npmrc", mounts.get(5).target());
        assertTrue(mounts.get(6).readOnly());
        assertEquals("1000", mounts.get(6).expand(value -> value.replace("$UID", "1000")).uid());
    }

    @Test
    void aSecretGivenOnlyAsAnEnvironmentVariableHasNoFile() {
        RunMount secret = RunMount.parse("type=secret,id=TOKEN,env=API_TOKEN");
        assertNull(secret.target());
        assertEquals("API_TOKEN", secret.env());
        assertEquals("key", RunMount.parse("type=secret,target=/etc/key").id(), "the id defaults to the target's name");
    }

    @Test
    void heredocsFollowTheirLineAndKeepCommentsBlankLinesAndBackslashes() {
        Dockerfile dockerfile = parse("""
                FROM scratch
                RUN <<EOF
                # not a Dockerfile comment
                
                echo "a \\
                b"
                EOF
                RUN python3 <<'PY' > out.txt && cat <<-"END" >> out.txt
                print("$HOME")
                PY
                		indented
                	END
                COPY <<hello.txt <<-two.txt /dest/
                hi $NAME
                hello.txt
                	second
                two.txt
                RUN ["echo", "<<EOF"]
                """);
        List<Instruction> body = dockerfile.target().instructions();
        Instruction.Run lone = (Instruction.Run) body.get(0);
        assertEquals(new ShellForm("<<EOF"), lone.command());
        assertEquals(List.of(new Instruction.Heredoc("EOF", "# not a Dockerfile comment\n\necho \"a \\\nb\"\n", true,
                false)), lone.heredocs());
        assertEquals(2, lone.location().line());
        Instruction.Run two = (Instruction.Run) body.get(1);
        assertEquals(new ShellForm("python3 <<'PY' > out.txt && cat <<-\"END\" >> out.txt"), two.command());
        assertEquals(new Instruction.Heredoc("PY", "print(\"$HOME\")\n", false, false), two.heredocs().get(0));
        Instruction.Heredoc chomped = two.heredocs().get(1);
        assertEquals("END", chomped.name());
        assertEquals("\t\tindented\n", chomped.content());
        assertEquals("indented\n", chomped.text());
        Instruction.Copy copy = (Instruction.Copy) body.get(2);
        assertEquals(List.of(), copy.sources());
        assertEquals("/dest/", copy.destination());
        assertEquals(List.of("hello.txt", "two.txt"), copy.heredocs().stream().map(Instruction.Heredoc::name).toList());
        assertEquals("hi $NAME\n", copy.heredocs().get(0).content());
        assertEquals("second\n", copy.heredocs().get(1).text());
        assertEquals(new ExecForm(List.of("echo", "<<EOF")), ((Instruction.Run) body.get(3)).command(),
                "the exec form has no here-documents");
        assertEquals(18, body.get(3).location().line());
    }

    @Test
    void copyAndAddReadTheirFlags() {
        List<Instruction> body = parse("""
                FROM scratch
                COPY --link --parents --exclude=*.md --exclude=tmp/ --chmod=644 ./src/./app/*.py /opt/
                COPY --link=false a /b
                ADD --checksum=sha256:%s https://example.com/tool.tgz /opt/
                ADD --link --chown=1:1 archive.tar.gz /srv/
                """.formatted("0".repeat(64))).target().instructions();
        Instruction.Copy copy = (Instruction.Copy) body.get(0);
        assertTrue(copy.link());
        assertTrue(copy.parents());
        assertEquals(List.of("*.md", "tmp/"), copy.excludes());
        assertEquals(List.of("./src/./app/*.py"), copy.sources());
        assertEquals(false, ((Instruction.Copy) body.get(1)).link());
        Instruction.Copy add = (Instruction.Copy) body.get(2);
        assertEquals("sha256:" + "0".repeat(64), add.checksum());
        assertTrue(DockerfileParser.isUrl(add.sources().get(0)));
        assertEquals("1:1", ((Instruction.Copy) body.get(3)).chown());
    }

    @Test
    void goDurationsAreReadAsDockerReadsThem() {
        assertEquals(java.time.Duration.ofMinutes(90), GoDuration.parse("1h30m"));
        assertEquals(java.time.Duration.ofMillis(1500), GoDuration.parse("1.5s"));
        assertEquals(java.time.Duration.ofNanos(2500), GoDuration.parse("2us500ns"));
        assertEquals(java.time.Duration.ZERO, GoDuration.parse("0"));
        assertEquals(java.time.Duration.ofSeconds(-3), GoDuration.parse("-3s"));
        for (String bad : List.of("", "5", "1d", "s", "1.s.", "1h 2m")) {
            assertThrows(IllegalArgumentException.class, () -> GoDuration.parse(bad), bad);
        }
    }

    @Test
    void longInstructionsAreShortenedInMessages() {
        String longRun = "RUN " + "x".repeat(200);
        DockerfileException error = assertThrows(DockerfileException.class, () -> parse(longRun + " --\n"));
        assertTrue(error.getMessage().contains("RUN xxx"), error.getMessage());
        assertTrue(error.getMessage().length() < 200, error.getMessage());
    }
}
