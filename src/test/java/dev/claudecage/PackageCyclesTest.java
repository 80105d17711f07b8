package dev.claudecage;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The packages of src/main form a graph without cycles (docs/architecture.md): each can be read,
 * changed and tested knowing only the packages below it. An edge is an import, or a class named in
 * full in the code (a string that names a class is an edge too: a main class to launch); a type of
 * the file's own package is no edge, and neither is a name in a comment.
 */
class PackageCyclesTest {

    private static final Path SOURCES = Path.of("src/main/java");
    private static final String ROOT = "dev.claudecage";
    private static final Pattern PACKAGE = Pattern.compile("(?m)^package ([\\w.]+);");
    private static final Pattern IMPORT = Pattern.compile("(?m)^import (?:static )?([\\w.]+)(?:\\.\\*)?;");
    private static final Pattern QUALIFIED = Pattern.compile("\\b" + Pattern.quote(ROOT) + "(?:\\.[a-z]\\w*)*\\.[A-Z]\\w*");

    @Test
    void packagesOfSrcMainFormNoCycle() throws IOException {
        Map<String, Map<String, Set<String>>> graph = graph(SOURCES);
        assertTrue(graph.size() > 10, "the sources were found and read: " + graph.keySet());
        List<Set<String>> cycles = cycles(graph);
        if (!cycles.isEmpty()) {
            fail("package cycles: a package on a cycle cannot be understood, changed or tested without the others; "
                    + "move what they share below them (docs/architecture.md)\n" + String.join("\n", describe(graph, cycles)));
        }
    }

    /** Positive control: the check sees a cycle made of imports, and one made of a class named in a string. */
    @Test
    void findsACycleOfImportsAndOneThroughAString(@org.junit.jupiter.api.io.TempDir Path sources) throws IOException {
        write(sources, "a/A.java", "package dev.claudecage.a;\nimport dev.claudecage.b.B;\nclass A {}\n");
        write(sources, "b/B.java", "package dev.claudecage.b;\nimport static dev.claudecage.a.A.run;\nclass B {}\n");
        write(sources, "c/C.java", "package dev.claudecage.c;\n// dev.claudecage.d.D in a comment is no edge\n"
                + "class C { String main = \"dev.claudecage.d.D\"; }\n");
        write(sources, "d/D.java", "package dev.claudecage.d;\nclass D { dev.claudecage.c.C c; }\n");
        write(sources, "e/E.java", "package dev.claudecage.e;\n/* import dev.claudecage.a.A; */\nclass E { E e; }\n");
        Map<String, Map<String, Set<String>>> graph = graph(sources);
        assertEquals(List.of(Set.of("dev.claudecage.a", "dev.claudecage.b"), Set.of("dev.claudecage.c", "dev.claudecage.d")),
                cycles(graph));
        assertEquals(Map.of(), graph.get("dev.claudecage.e"), "a comment and the file's own package are no edges");
    }

    private static void write(Path root, String file, String content) throws IOException {
        Path path = root.resolve(file);
        Files.createDirectories(path.getParent());
        Files.writeString(path, content);
    }

    /** Package to the packages it uses, each with the files and names that make the edge. */
    static Map<String, Map<String, Set<String>>> graph(Path sources) throws IOException {
        Map<String, Map<String, Set<String>>> graph = new TreeMap<>();
        List<Path> files;
        try (Stream<Path> walk = Files.walk(sources)) {
            files = walk.filter(file -> file.toString().endsWith(".java")).sorted().toList();
        }
        for (Path file : files) {
            String code = withoutComments(Files.readString(file));
            Matcher declared = PACKAGE.matcher(code);
            if (!declared.find()) {
                throw new AssertionError(file + " declares no package");
            }
            String own = declared.group(1);
            Map<String, Set<String>> edges = graph.computeIfAbsent(own, key -> new TreeMap<>());
            List<String> names = new ArrayList<>();
            Matcher imports = IMPORT.matcher(code);
            while (imports.find()) {
                names.add(imports.group(1));
            }
            Matcher qualified = QUALIFIED.matcher(code);
            while (qualified.find()) {
                names.add(qualified.group());
            }
            for (String name : names) {
                String target = packageOf(name);
                if (target.startsWith(ROOT) && !target.equals(own)) {
                    edges.computeIfAbsent(target, key -> new TreeSet<>())
                            .add(sources.relativize(file) + " uses " + name);
                }
            }
        }
        return graph;
    }

    /** The package part of a qualified name: the segments before the first that starts in upper case. */
    private static String packageOf(String name) {
        List<String> segments = new ArrayList<>();
        for (String segment : name.split("\\.")) {
            if (!segment.isEmpty() && Character.isUpperCase(segment.charAt(0))) {
                break;
            }
            segments.add(segment);
        }
        return String.join(".", segments);
    }

    /** The code with its comments blanked out; string and character literals stay. */
    static String withoutComments(String code) {
        StringBuilder out = new StringBuilder(code.length());
        int i = 0;
        while (i < code.length()) {
            char c = code.charAt(i);
            if (code.startsWith("//", i)) {
                while (i < code.length() && code.charAt(i) != '\n') {
                    i++;
                }
            } else if (code.startsWith("/*", i)) {
                int end = code.indexOf("*/", i + 2);
                i = end < 0 ? code.length() : end + 2;
                out.append(' ');
            } else if (code.startsWith("\"\"\"", i)) {
                int end = code.indexOf("\"\"\"", i + 3);
                int stop = end < 0 ? code.length() : end + 3;
                out.append(code, i, stop);
                i = stop;
            } else if (c == '"' || c == '\'') {
                int j = i + 1;
                while (j < code.length() && code.charAt(j) != c && code.charAt(j) != '\n') {
                    j += code.charAt(j) == '\\' ? 2 : 1;
                }
                int stop = Math.min(j + 1, code.length());
                out.append(code, i, stop);
                i = stop;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /** The strongly connected components of more than one package (Tarjan), in order of their first package. */
    static List<Set<String>> cycles(Map<String, Map<String, Set<String>>> graph) {
        Tarjan tarjan = new Tarjan(graph);
        graph.keySet().forEach(tarjan::visitIfNew);
        return tarjan.components.stream().filter(component -> component.size() > 1)
                .sorted((a, b) -> a.iterator().next().compareTo(b.iterator().next())).toList();
    }

    /** Each cycle as its packages, then the shortest loop through each of them, every edge with the first files that make it. */
    private static List<String> describe(Map<String, Map<String, Set<String>>> graph, List<Set<String>> cycles) {
        List<String> lines = new ArrayList<>();
        for (Set<String> cycle : cycles) {
            lines.add("cycle of " + cycle.size() + " packages: " + cycle);
            Set<List<String>> loops = new java.util.LinkedHashSet<>();
            cycle.forEach(start -> loops.add(shortestLoop(graph, cycle, start)));
            for (List<String> loop : loops) {
                lines.add("  loop: " + String.join(" -> ", loop));
                for (int i = 0; i + 1 < loop.size(); i++) {
                    Set<String> uses = graph.get(loop.get(i)).get(loop.get(i + 1));
                    lines.add("    " + loop.get(i) + " -> " + loop.get(i + 1) + ": "
                            + String.join(", ", uses.stream().limit(3).toList()) + (uses.size() > 3 ? ", ..." : ""));
                }
            }
        }
        return lines;
    }

    /** The shortest path from {@code start} back to itself inside {@code cycle} (breadth first). */
    private static List<String> shortestLoop(Map<String, Map<String, Set<String>>> graph, Set<String> cycle, String start) {
        Map<String, String> cameFrom = new TreeMap<>();
        java.util.ArrayDeque<String> queue = new java.util.ArrayDeque<>(List.of(start));
        while (!queue.isEmpty()) {
            String node = queue.poll();
            for (String next : graph.getOrDefault(node, Map.of()).keySet()) {
                if (!cycle.contains(next)) {
                    continue;
                }
                if (next.equals(start)) {
                    List<String> loop = new ArrayList<>(List.of(start));
                    for (String back = node; !back.equals(start); back = cameFrom.get(back)) {
                        loop.add(1, back);
                    }
                    loop.add(start);
                    return loop;
                }
                if (!cameFrom.containsKey(next)) {
                    cameFrom.put(next, node);
                    queue.add(next);
                }
            }
        }
        throw new IllegalStateException(start + " is on no loop of " + cycle);
    }

    private static final class Tarjan {
        private final Map<String, Map<String, Set<String>>> graph;
        private final Map<String, Integer> index = new TreeMap<>();
        private final Map<String, Integer> low = new TreeMap<>();
        private final List<String> stack = new ArrayList<>();
        private final Set<String> onStack = new TreeSet<>();
        private final List<Set<String>> components = new ArrayList<>();

        Tarjan(Map<String, Map<String, Set<String>>> graph) {
            this.graph = graph;
        }

        void visitIfNew(String node) {
            if (!index.containsKey(node)) {
                visit(node);
            }
        }

        private void visit(String node) {
            index.put(node, index.size());
            low.put(node, index.get(node));
            stack.add(node);
            onStack.add(node);
            for (String next : graph.getOrDefault(node, Map.of()).keySet()) {
                if (!index.containsKey(next)) {
                    visit(next);
                    low.put(node, Math.min(low.get(node), low.get(next)));
                } else if (onStack.contains(next)) {
                    low.put(node, Math.min(low.get(node), index.get(next)));
                }
            }
            if (low.get(node).equals(index.get(node))) {
                Set<String> component = new TreeSet<>();
                String member;
                do {
                    member = stack.remove(stack.size() - 1);
                    onStack.remove(member);
                    component.add(member);
                } while (!member.equals(node));
                components.add(component);
            }
        }
    }
}
