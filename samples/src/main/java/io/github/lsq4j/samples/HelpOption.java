package io.github.lsq4j.samples;

import picocli.CommandLine.Option;

/**
 * The {@code -h}/{@code --help} option of every sample, a picocli mixin: {@code @Mixin HelpOption help;}.
 * {@link SampleCli#parse} prints the usage and exits when it is given.
 */
public final class HelpOption {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean requested;
}
