package dev.claudecage.image.dockerfile;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Words as Docker reads them: splitting on unquoted whitespace, then, per word, quote removal,
 * escapes and variable substitution ({@code $NAME}, {@code ${NAME}}, {@code ${NAME:-word}},
 * {@code ${NAME-word}}, {@code ${NAME:+word}}, {@code ${NAME+word}}, {@code ${NAME:?message}},
 * {@code ${NAME?message}}, and BuildKit's {@code ${NAME#pattern}}, {@code ##}, {@code %}, {@code %%},
 * {@code ${NAME/pattern/replacement}} and {@code //}, whose patterns are shell patterns). The escape character is {@code \} unless the Dockerfile's
 * {@code escape} directive chose {@code `}.
 */
public final class ShellWords {

    private final char escape;

    public ShellWords(char escape) {
        this.escape = escape;
    }

    public char escape() {
        return escape;
    }

    /** Splits on whitespace outside quotes; each word keeps its quotes and escapes for {@link #expand}. */
    public List<String> split(String text) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quote == 0 && Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
                continue;
            }
            inWord = true;
            word.append(c);
            if (c == escape && quote != '\'' && i + 1 < text.length()) {
                word.append(text.charAt(++i));
            } else if (quote == 0 && (c == '\'' || c == '"')) {
                quote = c;
            } else if (c == quote) {
                quote = 0;
            }
        }
        if (inWord) {
            words.add(word.toString());
        }
        return words;
    }

    /**
     * One word with quotes removed and variables substituted from {@code variables}; unset
     * variables are empty. Throws {@link IllegalArgumentException} with the problem for a
     * malformed word (unterminated quote or brace, unsupported modifier, {@code ${X:?msg}}).
     */
    public String expand(String word, Map<String, String> variables) {
        return new Expansion(word, variables, false).until((char) 0);
    }

    /**
     * The content of a COPY here-document with an unquoted delimiter, expanded as BuildKit does
     * it (its "raw" expansion): variables are substituted, but quotes stay as written and a
     * {@code $NAME} or {@code ${NAME}} that is not set stays as written too; escapes are still
     * processed ({@code \$HOME} gives {@code $HOME}), and nothing inside single quotes changes.
     */
    public String expandKeepingQuotes(String text, Map<String, String> variables) {
        return new Expansion(text, variables, true).until((char) 0);
    }

    /** A cursor over one word; {@link #until} reads up to a stop character (0: the end). */
    private final class Expansion {
        private final String text;
        private final Map<String, String> variables;
        private final boolean raw;
        private int position;

        Expansion(String text, Map<String, String> variables, boolean raw) {
            this.text = text;
            this.variables = variables;
            this.raw = raw;
        }

        String until(char stop) {
            StringBuilder out = new StringBuilder();
            while (position < text.length()) {
                char c = text.charAt(position);
                if (stop != 0 && c == stop) {
                    return out.toString();
                }
                position++;
                if (c == '\'') {
                    out.append(raw ? "'" + singleQuoted() + "'" : singleQuoted());
                } else if (c == '"') {
                    out.append(raw ? "\"" + doubleQuoted() + "\"" : doubleQuoted());
                } else if (c == escape) {
                    if (position < text.length()) {
                        out.append(text.charAt(position++));
                    }
                } else if (c == '$') {
                    out.append(dollar());
                } else {
                    out.append(c);
                }
            }
            if (stop != 0) {
                throw new IllegalArgumentException("'" + text + "' has a '${' without its closing '}'");
            }
            return out.toString();
        }

        private String singleQuoted() {
            int end = text.indexOf('\'', position);
            if (end < 0) {
                throw new IllegalArgumentException("'" + text + "' has an unterminated single quote");
            }
            String literal = text.substring(position, end);
            position = end + 1;
            return literal;
        }

        private String doubleQuoted() {
            StringBuilder out = new StringBuilder();
            while (position < text.length()) {
                char c = text.charAt(position++);
                if (c == '"') {
                    return out.toString();
                }
                if (c == escape && position < text.length()) {
                    char next = text.charAt(position);
                    // As in Docker: only these can be escaped inside double quotes; other escapes stay.
                    if (next == '"' || next == '$' || next == escape) {
                        out.append(next);
                        position++;
                    } else {
                        out.append(c);
                    }
                } else if (c == '$') {
                    out.append(dollar());
                } else {
                    out.append(c);
                }
            }
            throw new IllegalArgumentException("'" + text + "' has an unterminated double quote");
        }

        private String dollar() {
            if (position >= text.length()) {
                return "$";
            }
            char next = text.charAt(position);
            if (next == '{') {
                position++;
                return braced();
            }
            String name = name();
            if (name.isEmpty()) {
                return "$";
            }
            return variables.containsKey(name) || !raw ? variables.getOrDefault(name, "") : "$" + name;
        }

        private String name() {
            int start = position;
            while (position < text.length() && isNameChar(text.charAt(position))) {
                position++;
            }
            return text.substring(start, position);
        }

        private String braced() {
            String name = name();
            if (name.isEmpty()) {
                throw new IllegalArgumentException("'" + text + "' has a '${' without a variable name");
            }
            if (position >= text.length()) {
                throw new IllegalArgumentException("'" + text + "' has a '${' without its closing '}'");
            }
            char c = text.charAt(position++);
            if (c == '}') {
                return variables.containsKey(name) || !raw ? variables.getOrDefault(name, "") : "${" + name + "}";
            }
            if (c == '#' || c == '%' || c == '/') {
                return trimmedOrReplaced(name, c);
            }
            boolean colon = c == ':';
            if (colon) {
                if (position >= text.length()) {
                    throw new IllegalArgumentException("'" + text + "' has a '${' without its closing '}'");
                }
                c = text.charAt(position++);
            }
            if (c != '-' && c != '+' && c != '?') {
                throw new IllegalArgumentException("'" + text + "' uses the modifier '" + (colon ? ":" : "") + c
                        + "' in ${" + name + "...}; supported are :- - :+ + :? ? # ## % %% / //");
            }
            String word = until('}');
            position++;
            String value = variables.get(name);
            boolean present = colon ? value != null && !value.isEmpty() : value != null;
            return switch (c) {
                case '-' -> present ? value : word;
                case '+' -> present ? word : "";
                default -> {
                    if (!present) {
                        throw new IllegalArgumentException(name + ": "
                                + (word.isEmpty() ? "is not allowed to be " + (colon ? "unset or empty" : "unset") : word));
                    }
                    yield value;
                }
            };
        }

        /** ${NAME#p} ${NAME##p} ${NAME%p} ${NAME%%p}: a prefix or suffix removed; ${NAME/p/r} ${NAME//p/r}: replaced. */
        private String trimmedOrReplaced(String name, char operator) {
            boolean longest = position < text.length() && text.charAt(position) == operator;
            if (longest) {
                position++;
            }
            String value = variables.getOrDefault(name, "");
            if (operator == '/') {
                String pattern = until('/');
                position++;
                String replacement = until('}');
                position++;
                Matcher matcher = shellPattern(pattern, true).matcher(value);
                return longest ? matcher.replaceAll(Matcher.quoteReplacement(replacement))
                        : matcher.replaceFirst(Matcher.quoteReplacement(replacement));
            }
            String pattern = until('}');
            position++;
            Pattern regex = shellPattern(pattern, longest);
            if (operator == '#') {
                for (int end = longest ? value.length() : 0; longest ? end >= 0 : end <= value.length(); end += longest ? -1 : 1) {
                    if (regex.matcher(value.substring(0, end)).matches()) {
                        return value.substring(end);
                    }
                }
                return value;
            }
            for (int start = longest ? 0 : value.length(); longest ? start <= value.length() : start >= 0;
                 start += longest ? 1 : -1) {
                if (regex.matcher(value.substring(start)).matches()) {
                    return value.substring(0, start);
                }
            }
            return value;
        }
    }

    /** A shell pattern ({@code *}, {@code ?}, {@code [...]}) as a regular expression; {@code *} is greedy or not. */
    static Pattern shellPattern(String pattern, boolean greedy) {
        StringBuilder regex = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c == '*') {
                regex.append(greedy ? ".*" : ".*?");
            } else if (c == '?') {
                regex.append('.');
            } else if (c == '[') {
                int end = pattern.indexOf(']', i + 2);
                if (end < 0) {
                    regex.append("\\[");
                    continue;
                }
                String set = pattern.substring(i + 1, end);
                regex.append('[').append(set.startsWith("!") ? "^" + set.substring(1) : set).append(']');
                i = end;
            } else {
                regex.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(regex.toString(), Pattern.DOTALL);
    }

    static boolean isNameChar(char c) {
        return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }
}
