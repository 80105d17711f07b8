package dev.claudecage.image.dockerfile;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Words as Docker reads them: splitting on unquoted whitespace, then, per word, quote removal,
 * escapes and variable substitution ({@code $NAME}, {@code ${NAME}}, {@code ${NAME:-word}},
 * {@code ${NAME-word}}, {@code ${NAME:+word}}, {@code ${NAME+word}}, {@code ${NAME:?message}},
 * {@code ${NAME?message}}). The escape character is {@code \} unless the Dockerfile's
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
        return new Expansion(word, variables).until((char) 0);
    }

    /** A cursor over one word; {@link #until} reads up to a stop character (0: the end). */
    private final class Expansion {
        private final String text;
        private final Map<String, String> variables;
        private int position;

        Expansion(String text, Map<String, String> variables) {
            this.text = text;
            this.variables = variables;
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
                    out.append(singleQuoted());
                } else if (c == '"') {
                    out.append(doubleQuoted());
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
            return name.isEmpty() ? "$" : variables.getOrDefault(name, "");
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
                return variables.getOrDefault(name, "");
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
                        + "' in ${" + name + "...}; supported are :- - :+ + :? ?");
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
    }

    static boolean isNameChar(char c) {
        return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }
}
