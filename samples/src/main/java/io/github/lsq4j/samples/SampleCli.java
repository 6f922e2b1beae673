package io.github.lsq4j.samples;

import java.io.PrintStream;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The samples' one command-line parser (picocli), strict: options are the annotated fields of a
 * {@code @Command} object, {@code --help} prints the usage, and an unknown or misspelled option, a
 * missing value, a value of the wrong type or one that {@link Checked#check()} refuses ends the program
 * with the reason, the usage (or picocli's "did you mean" suggestions) and exit code {@value #USAGE_ERROR}.
 *
 * <p>The samples run under {@code mvn exec:java} in Maven's own JVM, so these exits end Maven too, with
 * the sample's exit code and without Maven's stack trace.
 */
public final class SampleCli {
    /** Exit code of a usage error or of a missing input the user has to provide (e.g. the data set). */
    public static final int USAGE_ERROR = 2;

    private SampleCli() {
    }

    /** Options whose values depend on each other, or have a range, check them after parsing. */
    public interface Checked {
        /**
         * @throws IllegalArgumentException naming the option and the bad value
         */
        void check();
    }

    /**
     * Parses the command line into the options object, or ends the program (help, or a usage error).
     *
     * @param options a {@code @Command}-annotated object with {@code @Option} fields holding their defaults
     * @param args    the command line
     * @param <T>     the options' type
     * @return {@code options}, filled in
     */
    public static <T> T parse(T options, String[] args) {
        CommandLine cmd = new CommandLine(options);
        try {
            cmd.parseArgs(args);
            if (cmd.isUsageHelpRequested()) {
                cmd.usage(System.out);
                System.exit(0);
            }
            if (options instanceof Checked checked) {
                try {
                    checked.check();
                } catch (IllegalArgumentException e) {
                    throw new ParameterException(cmd, e.getMessage(), e);
                }
            }
        } catch (ParameterException e) {
            PrintStream err = System.err;
            err.println(cmd.getCommandName() + ": " + e.getMessage());
            if (!UnmatchedArgumentException.printSuggestions(e, err)) {
                e.getCommandLine().usage(err);
            }
            System.exit(USAGE_ERROR);
        }
        return options;
    }

    /**
     * Ends the program because of something the user has to fix (e.g. the data set is missing): the
     * message on standard error, exit code {@value #USAGE_ERROR}, no stack trace.
     *
     * @param message what is wrong and what to do
     * @return never returns; declared so that callers can write {@code throw SampleCli.fail(...)}
     */
    public static RuntimeException fail(String message) {
        System.err.println(message);
        System.exit(USAGE_ERROR);
        return new IllegalStateException(message);
    }
}
