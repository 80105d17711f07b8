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
                bad("FROM scratch\nVOLUME /data\n", 2, "VOLUME /data: VOLUME is not supported"),
                bad("FROM scratch\nHEALTHCHECK CMD true\n", 2, "HEALTHCHECK is not supported"),
                bad("FROM scratch\nONBUILD RUN x\n", 2, "ONBUILD is not supported"),
                bad("FROM scratch\nRUNN true\n", 2, "unknown instruction 'RUNN'"),
                bad("FROM scratch\nADD https://example.com/x.tgz /x\n", 2, "ADD of a URL or git repository is not supported"),
                bad("FROM scratch\nADD git@github.com:a/b.git /x\n", 2, "ADD of a URL or git repository is not supported"),
                bad("RUN true\nFROM scratch\n", 1, "RUN comes before the first FROM; only ARG may"),
                bad("FROM scratch\nRUN --mount=type=cache,target=/x true\n", 2, "the flag --mount is not supported"),
                bad("FROM scratch\nCOPY --parents a /b\n", 2, "the flag --parents is not supported; COPY takes"),
                bad("FROM scratch\nADD --from=x a /b\n", 2, "the flag --from is not supported"),
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
                bad("FROM scratch\nRUN <<EOF\necho hi\nEOF\n", 2, "heredocs (<<EOF) are not supported"),
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
    void addOfAUrlExplainsWhatToDoInstead() {
        DockerfileException error = assertThrows(DockerfileException.class,
                () -> parse("FROM scratch\nADD http://example.com/a /a\n"));
        assertTrue(error.hint().contains("RUN step"), error.hint());
    }

    @Test
    void longInstructionsAreShortenedInMessages() {
        String longRun = "RUN " + "x".repeat(200);
        DockerfileException error = assertThrows(DockerfileException.class, () -> parse(longRun + " --\n"));
        assertTrue(error.getMessage().contains("RUN xxx"), error.getMessage());
        assertTrue(error.getMessage().length() < 200, error.getMessage());
    }
}
