package dev.claudecage.image.dockerfile;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A parsed Dockerfile: the ARGs before the first FROM (usable in FROM lines only) and the
 * stages. The last stage is the image; earlier ones are built only when it needs them.
 *
 * @param escape the escape character, {@code \} or the one the {@code escape} directive chose
 */
public record Dockerfile(Path file, char escape, List<Instruction.Arg> globalArgs, List<Stage> stages) {

    public Dockerfile {
        globalArgs = List.copyOf(globalArgs);
        stages = List.copyOf(stages);
        if (stages.isEmpty()) {
            throw new IllegalArgumentException("a Dockerfile needs at least one stage");
        }
    }

    public Stage target() {
        return stages.get(stages.size() - 1);
    }

    /**
     * The stage that a FROM or COPY --from before stage {@code before} names: by its AS name
     * (any case) or its index. Empty when the name is an image instead.
     */
    public Optional<Stage> stageNamed(String name, int before) {
        for (Stage stage : stages.subList(0, before)) {
            if (name.equalsIgnoreCase(stage.from().stageName()) || name.equals(Integer.toString(stage.index()))) {
                return Optional.of(stage);
            }
        }
        return Optional.empty();
    }
}
